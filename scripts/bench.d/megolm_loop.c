/* The decrypt benchmark's baseline (scripts/bench decrypt): libolm alone, no parsing or storing.
 *
 *   megolm_loop SESSIONS CIPHERTEXTS
 *
 * SESSIONS: one exported session key (libolm's export format, base64) per line.
 * CIPHERTEXTS: one megolm ciphertext (base64, as in an event's content) per line.
 * Imports every session, then decrypts every ciphertext with each session in turn until one succeeds
 * (the corpus generator writes the session index first: "INDEX CIPHERTEXT"), timing only the decrypt
 * calls. Prints "decrypted N in S seconds".
 */
#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *length = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(*length + 1);
    if (fread(data, 1, *length, f) != *length) { perror(path); exit(1); }
    data[*length] = 0;
    fclose(f);
    return data;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: megolm_loop SESSIONS CIPHERTEXTS\n"); return 2; }
    size_t length;
    char *keys = read_file(argv[1], &length);
    OlmInboundGroupSession *sessions[1024];
    int session_count = 0;
    for (char *line = strtok(keys, "\n"); line && session_count < 1024; line = strtok(NULL, "\n")) {
        void *memory = malloc(olm_inbound_group_session_size());
        OlmInboundGroupSession *session = olm_inbound_group_session(memory);
        if (olm_import_inbound_group_session(session, (uint8_t *)line, strlen(line)) == olm_error()) {
            fprintf(stderr, "import: %s\n", olm_inbound_group_session_last_error(session));
            return 1;
        }
        sessions[session_count++] = session;
    }
    char *texts = read_file(argv[2], &length);
    uint8_t *plaintext = malloc(1 << 20);
    uint8_t *copy = malloc(1 << 20);
    long decrypted = 0;
    double spent = 0;
    char *saveptr = NULL;
    for (char *line = strtok_r(texts, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
        char *space = strchr(line, ' ');
        if (!space) continue;
        int index = atoi(line);
        char *ciphertext = space + 1;
        size_t n = strlen(ciphertext);
        if (index < 0 || index >= session_count || n >= (1 << 20)) { fprintf(stderr, "bad line\n"); return 1; }
        /* libolm decodes the base64 in place: give it a copy, as any caller must. */
        memcpy(copy, ciphertext, n);
        double start = now();
        uint32_t message_index;
        size_t max = olm_group_decrypt_max_plaintext_length(sessions[index], copy, n);
        memcpy(copy, ciphertext, n);
        size_t result = olm_group_decrypt(sessions[index], copy, n, plaintext, max, &message_index);
        spent += now() - start;
        if (result == olm_error()) {
            fprintf(stderr, "decrypt: %s\n", olm_inbound_group_session_last_error(sessions[index]));
            return 1;
        }
        decrypted++;
    }
    printf("decrypted %ld in %.3f seconds\n", decrypted, spent);
    return 0;
}
