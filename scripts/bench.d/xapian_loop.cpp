// The engine's own ceiling for `scripts/bench search`: the same documents mxarchive indexes (text, sender,
// room, msgtype and id terms, time/room/hash values, the event id as data), fed to Xapian by a plain C++ loop
// on one thread into one database, with the same stemmer and flags. Input: TSV lines
// event_id \t room_id \t sender \t timestamp_ms \t body (already read into memory before the clock starts).
//   g++ -O2 -std=c++17 xapian_loop.cpp -lxapian -o xapian_loop && ./xapian_loop docs.tsv DBDIR
#include <xapian.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc != 3) {
        std::cerr << "usage: xapian_loop DOCS.tsv DBDIR\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    try {
        auto start = std::chrono::steady_clock::now();
        Xapian::WritableDatabase db(argv[2], Xapian::DB_CREATE_OR_OVERWRITE);
        Xapian::TermGenerator generator;
        generator.set_stemmer(Xapian::Stem("english"));
        generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
        generator.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
        for (const std::string &line : lines) {
            std::string fields[5];
            size_t position = 0;
            for (int i = 0; i < 4; ++i) {
                size_t tab = line.find('\t', position);
                fields[i] = line.substr(position, tab - position);
                position = tab + 1;
            }
            fields[4] = line.substr(position);
            Xapian::Document document;
            generator.set_document(document);
            generator.index_text(fields[4]);
            document.add_boolean_term("A" + fields[2]);
            document.add_boolean_term("R" + fields[1]);
            document.add_boolean_term("Mm.text");
            document.add_boolean_term("Q" + fields[0]);
            document.add_value(0, Xapian::sortable_serialise(std::stod(fields[3])));
            document.add_value(1, fields[1]);
            document.add_value(2, std::string(8, '\0'));
            document.set_data(fields[0]);
            db.add_document(document);
        }
        db.commit();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cout << "{\"documents\": " << lines.size() << ", \"seconds\": " << seconds << "}" << std::endl;
    } catch (const Xapian::Error &e) {
        std::cerr << e.get_description() << std::endl;
        return 1;
    }
    return 0;
}
