#!/usr/bin/env python3
"""The search benchmark's driver (called by `scripts/bench search`). Every figure comes from one run.

1. A deterministic generator writes N realistic messages (Zipfian vocabulary of 50,000 words, 1-60 words per
   message, 200 senders, 50 rooms, 3 years of timestamps) straight into an mxarchive store (the schema is
   created by `mxarchive status`, rows inserted as sync would store them), plus the same documents as TSV.
2. Indexing: `mxarchive reindex --shards 1` and `--shards 2` (release build) — messages/s and index size —
   against a plain C++ loop feeding the same documents to Xapian on one thread (the engine's own ceiling).
3. Queries: Q mixed queries in seven classes (rare / medium / common single words, two-word phrases, a word
   from one sender, a word in a one-month date range, a word sorted by date), each through the library path
   of `mxarchive search --limit 20` (SearchBench: parse, Xapian, the store's text, snippets), and the same
   queries in SQLite FTS5 (porter + unicode61, snippet(), ORDER BY rank or ts, LIMIT 20). One warm-up pass,
   then one measured pass each; p50/p99 per class and their ratios.
"""

import argparse
import bisect
import itertools
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export as export_bench  # noqa: E402  (the empty store with mxarchive's schema)

SERVER = "bench.example"
START_MS = 1_640_995_200_000  # 2022-01-01T00:00:00Z
SPAN_MS = 3 * 365 * 86_400_000

COMMON = """the be to of and a in that have i it for not on with he as you do at this but his by from they we say
her she or an will my one all would there their what so up out if about who get which go me when make can like
time no just him know take people into year your good some could them see other than then now look only come its
over think also back after use two how our work first well way even new want because any these give day most us
deploy server meeting migration release running runs backup database cluster review test build branch ticket
coffee lunch office weekend monday friday tomorrow yesterday fixed broken slow fast green failed merged""".split()


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def vocabulary(rng, size):
    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st", "pl", "gr", "sh"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    codas = ["", "", "n", "r", "s", "l", "nt", "rd", "ck", "m"]
    while len(words) < size:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3))) + rng.choice(codas)
        if word not in seen and len(word) > 2:
            seen.add(word)
            words.append(word)
    return words


def generate(args, work, mxarchive):
    rng = random.Random(20261127)
    words = vocabulary(rng, 50_000)
    cum = list(itertools.accumulate(1.0 / (r + 1) ** 1.07 for r in range(len(words))))
    senders = [f"@user{n}:{SERVER}" for n in range(200)]
    sender_cum = list(itertools.accumulate(1.0 / (r + 1) ** 0.8 for r in range(len(senders))))
    rooms = [f"!room{n}:{SERVER}" for n in range(50)]
    store = os.path.join(work, "store")
    shutil.rmtree(store, ignore_errors=True)
    export_bench.create_store(mxarchive, store)
    db = sqlite3.connect(os.path.join(store, "archive.sqlite"))
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    db.executemany("INSERT INTO rooms (room_id, room_version, name, backward_state, forward_token) VALUES (?, '12', ?, 'complete', 'f')",
                   [(r, f"Bench room {n}") for n, r in enumerate(rooms)])
    positions = {r: 0 for r in rooms}
    phrases = []
    docs = open(os.path.join(work, "docs.tsv"), "w", encoding="utf-8")
    t0 = time.monotonic()

    def rows():
        for i in range(args.messages):
            length = max(1, min(60, int(rng.lognormvariate(2.0, 0.75))))
            text = " ".join(words[bisect.bisect_left(cum, rng.random() * cum[-1])] for _ in range(length))
            if length >= 2 and rng.random() < 0.001 and len(phrases) < 5000:
                tokens = text.split()
                k = rng.randrange(len(tokens) - 1)
                phrases.append(tokens[k] + " " + tokens[k + 1])
            sender = senders[bisect.bisect_left(sender_cum, rng.random() * sender_cum[-1])]
            room = rooms[rng.randrange(len(rooms))]
            positions[room] += 1
            ts = START_MS + i * SPAN_MS // args.messages + rng.randrange(1000)
            event_id = f"$bench{i:08d}"
            raw = json.dumps({"content": {"msgtype": "m.text", "body": text}, "event_id": event_id,
                              "origin_server_ts": ts, "room_id": room, "sender": sender, "type": "m.room.message"},
                             separators=(",", ":"), ensure_ascii=False, sort_keys=True)
            docs.write(f"{event_id}\t{room}\t{sender}\t{ts}\t{text}\n")
            yield (event_id, room, positions[room], sender, ts, raw, i + 1)
            if (i + 1) % 200_000 == 0:
                log(f"generated {i + 1} messages ({time.monotonic() - t0:.0f} s)")

    db.executemany("""INSERT INTO events (event_id, room_id, position, sender, type, origin_server_ts, raw_json,
                      is_timeline_item, change_seq) VALUES (?, ?, ?, ?, 'm.room.message', ?, ?, 1, ?)""", rows())
    db.commit()
    db.close()
    docs.close()

    # The queries: seven classes, deterministic.
    qrng = random.Random(7)
    per = args.queries // 7
    queries = []
    month = 30 * 86_400_000
    for n in range(args.queries):
        kind = ["rare", "medium", "common", "phrase", "sender", "date_range", "sorted_by_date"][n % 7]
        if kind == "rare":
            word = words[qrng.randrange(10_000, 30_000)]
        elif kind in ("medium", "sender", "sorted_by_date"):
            word = words[qrng.randrange(300, 3_000)]
        elif kind == "date_range":
            word = words[qrng.randrange(30, 300)]
        else:
            word = words[qrng.randrange(5, 60)]
        entry = {"class": kind, "word": word, "sort": None}
        if kind == "phrase":
            entry["phrase"] = qrng.choice(phrases)
            entry["query"] = f'"{entry["phrase"]}"'
        elif kind == "sender":
            entry["sender"] = senders[qrng.randrange(0, 100)]
            entry["query"] = f"{word} from:{entry['sender']}"
        elif kind == "date_range":
            start = START_MS + qrng.randrange(0, SPAN_MS - month)
            day = lambda ms: time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))  # noqa: E731
            entry["from"], entry["to"] = day(start), day(start + month)
            entry["query"] = f"{word} date:{entry['from']}..{entry['to']}"
        elif kind == "sorted_by_date":
            entry["sort"] = "date"
            entry["query"] = word
        else:
            entry["query"] = word
        queries.append(entry)
    with open(os.path.join(work, "queries.jsonl"), "w", encoding="utf-8") as f:
        for entry in queries:
            f.write(json.dumps(entry) + "\n")
    log(f"corpus: {args.messages} messages, {len(queries)} queries ({per} per class) in {time.monotonic() - t0:.0f} s")
    return store, queries


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def fts5(work, queries):
    path = os.path.join(work, "fts.sqlite")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(body, sender, event_id UNINDEXED, ts UNINDEXED, "
               "tokenize = 'porter unicode61')")
    t0 = time.monotonic()

    def rows():
        with open(os.path.join(work, "docs.tsv"), encoding="utf-8") as f:
            for line in f:
                event_id, _room, sender, ts, text = line.rstrip("\n").split("\t", 4)
                yield (text, sender, event_id, int(ts))

    db.execute("BEGIN")
    db.executemany("INSERT INTO fts (body, sender, event_id, ts) VALUES (?, ?, ?, ?)", rows())
    db.commit()
    build = time.monotonic() - t0
    size = os.path.getsize(path)

    def run(entry):
        word = f'"{entry["word"]}"'
        snippet = "snippet(fts, 0, '[', ']', '…', 24)"
        if entry["class"] == "phrase":
            sql, params = f"SELECT event_id, {snippet} FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20", \
                [f'body:"{entry["phrase"]}"']
        elif entry["class"] == "sender":
            local = entry["sender"][1:].split(":")[0]
            sql, params = f"SELECT event_id, {snippet} FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20", \
                [f'body:{word} AND sender:"{local} {SERVER.replace(".", " ")}"']
        elif entry["class"] == "date_range":
            start = int(time.mktime(time.strptime(entry["from"], "%Y-%m-%d")) - time.timezone) * 1000
            end = int(time.mktime(time.strptime(entry["to"], "%Y-%m-%d")) - time.timezone) * 1000 + 86_400_000
            sql, params = f"SELECT event_id, {snippet} FROM fts WHERE fts MATCH ? AND ts >= ? AND ts < ? " \
                "ORDER BY rank LIMIT 20", [f"body:{word}", start, end]
        elif entry["class"] == "sorted_by_date":
            sql, params = f"SELECT event_id, {snippet} FROM fts WHERE fts MATCH ? ORDER BY ts DESC LIMIT 20", \
                [f"body:{word}"]
        else:
            sql, params = f"SELECT event_id, {snippet} FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20", \
                [f"body:{word}"]
        return db.execute(sql, params).fetchall()

    timings = {}
    results = 0
    for measured in (False, True):
        for entry in queries:
            t = time.perf_counter()
            rows_found = run(entry)
            elapsed = (time.perf_counter() - t) * 1000
            if measured:
                timings.setdefault(entry["class"], []).append(elapsed)
                results += len(rows_found)
    db.close()
    return {"build_seconds": build, "size": size, "timings": timings, "results": results}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the release mxarchive")
    ap.add_argument("--bench-bin", required=True, help="the release SearchBench")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--workdir", default=os.path.expanduser("~/.cache/mxarchive/bench-search"))
    args = ap.parse_args()
    work = args.workdir
    os.makedirs(work, exist_ok=True)

    store, queries = generate(args, work, args.bin)

    indexing = {}
    for shards in (1, 2):
        log(f"mxarchive reindex --shards {shards}")
        out = subprocess.run([args.bin, "--store", store, "reindex", "--shards", str(shards), "--json"],
                             check=True, capture_output=True, text=True).stdout
        result = json.loads(out)
        indexing[shards] = {"rate": result["documents"] / result["seconds"], "seconds": result["seconds"],
                            "documents": result["documents"], "size": dir_size(os.path.join(store, "index"))}
        log(f"  {result['documents']} messages in {result['seconds']:.1f} s")

    log("plain C++ loop")
    loop = os.path.join(work, "xapian_loop")
    here = os.path.dirname(os.path.abspath(__file__))
    compiler = shutil.which("g++") or shutil.which("clang++") or "c++"
    subprocess.run([compiler, "-O2", "-std=c++17", os.path.join(here, "xapian_loop.cpp"), "-lxapian", "-o", loop], check=True)
    out = subprocess.run([loop, os.path.join(work, "docs.tsv"), os.path.join(work, "loop-db")],
                         check=True, capture_output=True, text=True).stdout
    cpp = json.loads(out)
    cpp_rate = cpp["documents"] / cpp["seconds"]
    shutil.rmtree(os.path.join(work, "loop-db"), ignore_errors=True)

    log("queries: mxarchive (index of 2 shards, as built last)")
    out = subprocess.run([args.bench_bin, store, os.path.join(work, "queries.jsonl")],
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    log("queries: SQLite FTS5 (building its index first)")
    fts = fts5(work, queries)

    print()
    print(f"corpus: {args.messages:,} messages, 50 rooms, 200 senders, 3 years; {len(queries)} queries")
    print()
    print("indexing                          messages/s    seconds   index size")
    for shards in (1, 2):
        r = indexing[shards]
        print(f"  mxarchive reindex, {shards} shard{'s' if shards > 1 else ' '}     {r['rate']:>10,.0f}  {r['seconds']:>9.1f}"
              f"  {r['size'] / 1e6:>8.0f} MB")
    print(f"  plain C++ loop, 1 database      {cpp_rate:>10,.0f}  {cpp['seconds']:>9.1f}")
    print(f"  SQLite FTS5 (Python executemany){args.messages / fts['build_seconds']:>10,.0f}  {fts['build_seconds']:>9.1f}"
          f"  {fts['size'] / 1e6:>8.0f} MB")
    print(f"  ratio 1 shard / C++ loop: {indexing[1]['rate'] / cpp_rate:.2f}   "
          f"2 shards / C++ loop: {indexing[2]['rate'] / cpp_rate:.2f}")
    print()
    print("latency (ms)        mxarchive p50    p99  |  FTS5 p50     p99  |  p99 ratio (FTS5 / mxarchive)")
    all_ours, all_fts = [], []
    for kind in ["rare", "medium", "common", "phrase", "sender", "date_range", "sorted_by_date"]:
        a, b = ours.get(kind, []), fts["timings"].get(kind, [])
        if not a or not b:
            continue
        all_ours += a
        all_fts += b
        print(f"  {kind:<16} {percentile(a, 50):>10.2f} {percentile(a, 99):>7.2f}  |  {percentile(b, 50):>7.2f} "
              f"{percentile(b, 99):>8.2f}  |  {percentile(b, 99) / max(percentile(a, 99), 1e-9):.2f}")
    print(f"  {'all':<16} {percentile(all_ours, 50):>10.2f} {percentile(all_ours, 99):>7.2f}  |  "
          f"{percentile(all_fts, 50):>7.2f} {percentile(all_fts, 99):>8.2f}  |  "
          f"{percentile(all_fts, 99) / max(percentile(all_ours, 99), 1e-9):.2f}")
    print(f"  results returned: mxarchive {ours.get('_results')}, FTS5 {fts['results']}")
    print(f"load average at the end (other work on the machine skews every figure): {os.getloadavg()}")
    summary = {"messages": args.messages, "indexing": indexing, "cpp_loop_rate": cpp_rate,
               "fts5_build_seconds": fts["build_seconds"], "fts5_size": fts["size"],
               "latency_ms": {k: {"mxarchive_p50": percentile(v, 50), "mxarchive_p99": percentile(v, 99),
                                  "fts5_p50": percentile(fts["timings"][k], 50),
                                  "fts5_p99": percentile(fts["timings"][k], 99)}
                              for k, v in ours.items() if not k.startswith("_")}}
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log(f"figures also in {os.path.join(work, 'result.json')}")


if __name__ == "__main__":
    main()
