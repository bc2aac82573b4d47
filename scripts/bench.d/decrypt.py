#!/usr/bin/env python3
"""The decrypt benchmark's driver (called by `scripts/bench decrypt`).

A corpus of --events megolm events (default 100,000; scripts/seed_e2e.py's make_corpus, encrypted with
vodozemac) over several sessions is served from memory as /messages pages by the same minimal HTTP server
as the backfill ceiling (Synapse is out of the way). In one run:

  * pipeline:   `mxarchive keys import` of the corpus's key-export file into a fresh store, then
                `mxarchive sync --from-start --no-index`: fetch, parse, decrypt, replay check, normalise, store;
  * storing:    the same sync without keys (every event stored as missing_key): what storing alone costs;
  * bare libolm: scripts/bench.d/megolm_loop.c, which only imports the sessions and calls libolm's
                decrypt on the same ciphertexts, timing the decrypt calls alone.

Prints both rates and the ratio pipeline / bare libolm (goal >= 0.5), and checks that the pipeline
decrypted every event to the corpus's plaintext.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import backfill  # noqa: E402  (the page server and the timed sync)
import seed_e2e  # noqa: E402  (the corpus, made with vodozemac)

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC  # noqa: E402

ROOM_ID = "!decryptbench:localhost"
SENDER = "@alice:localhost"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def session_keys_from_export(path, passphrase):
    """The exported session keys of a key-export file (the baseline needs them in the clear)."""
    text = open(path, encoding="utf-8").read()
    body = text.split("-----BEGIN MEGOLM SESSION DATA-----")[1].split("-----END MEGOLM SESSION DATA-----")[0]
    data = base64.b64decode("".join(body.split()))
    salt, iv, rounds = data[1:17], data[17:33], int.from_bytes(data[33:37], "big")
    keys = PBKDF2HMAC(algorithm=hashes.SHA512(), length=64, salt=salt, iterations=rounds).derive(passphrase.encode())
    if not hmac.compare_digest(hmac.new(keys[32:], data[:-32], hashlib.sha256).digest(), data[-32:]):
        raise SystemExit("the corpus's key-export file fails its HMAC")
    decryptor = Cipher(algorithms.AES(keys[:32]), modes.CTR(iv)).decryptor()
    return json.loads(decryptor.update(data[37:-32]) + decryptor.finalize())


def pages(events, limit):
    bodies = {}
    for i in range(0, len(events), limit):
        n = i // limit
        reply = {"chunk": events[i:i + limit], "start": f"p{n}", "end": f"p{n + 1}", "state": []}
        bodies[None if n == 0 else f"p{n}"] = json.dumps(reply, separators=(",", ":")).encode()
    last = (len(events) + limit - 1) // limit
    bodies[f"p{last}"] = json.dumps({"chunk": [], "start": f"p{last}"}).encode()
    return bodies


def state_body():
    create = {"type": "m.room.create", "state_key": "", "sender": SENDER, "event_id": "$create",
              "room_id": ROOM_ID, "origin_server_ts": 1, "content": {"room_version": "12", "creator": SENDER}}
    encryption = {"type": "m.room.encryption", "state_key": "", "sender": SENDER, "event_id": "$encryption",
                  "room_id": ROOM_ID, "origin_server_ts": 2, "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
    return json.dumps([create, encryption]).encode()


def run_sync(binary, store, env, limit):
    seconds, rss, new = backfill.mxarchive_sync(binary, None, None, None, ROOM_ID, limit, env_extra=env, store=store,
                                                extra=("--no-index",))
    return seconds, rss, new


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="mxa-bench-decrypt-")
    os.makedirs(work, exist_ok=True)
    corpus_dir = os.path.join(work, "corpus")
    passphrase = "bench passphrase (not a secret)"
    t0 = time.perf_counter()
    corpus = seed_e2e.make_corpus(args.events, ROOM_ID, SENDER, corpus_dir, passphrase, sessions=args.sessions)
    log(f"corpus: {args.events} events over {len(corpus['sessions'])} sessions in {time.perf_counter() - t0:.1f} s")
    events = [json.loads(line) for line in open(os.path.join(corpus_dir, "events.jsonl"), encoding="utf-8")]
    plaintexts = [json.loads(line) for line in open(os.path.join(corpus_dir, "plaintexts.jsonl"), encoding="utf-8")]
    export_path = os.path.join(corpus_dir, "keys-export.txt")
    pass_file = os.path.join(work, "passphrase")
    fd = os.open(pass_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, passphrase.encode())
    os.close(fd)

    # The baseline: libolm alone on the same ciphertexts.
    loop = os.path.join(work, "megolm_loop")
    subprocess.run(["gcc", "-O2", "-o", loop, os.path.join(HERE, "megolm_loop.c"), "-lolm"], check=True)
    sessions = session_keys_from_export(export_path, passphrase)
    index_of = {s["session_id"]: i for i, s in enumerate(sessions)}
    with open(os.path.join(work, "sessions.txt"), "w") as f:
        f.writelines(s["session_key"] + "\n" for s in sessions)
    with open(os.path.join(work, "ciphertexts.txt"), "w") as f:
        f.writelines(f"{index_of[e['content']['session_id']]} {e['content']['ciphertext']}\n" for e in events)
    bare_runs = []
    for _ in range(3):
        out = subprocess.run([loop, os.path.join(work, "sessions.txt"), os.path.join(work, "ciphertexts.txt")],
                             check=True, capture_output=True, text=True).stdout.split()
        if int(out[1]) != len(events):
            raise SystemExit(f"the libolm loop decrypted {out[1]} of {len(events)}")
        bare_runs.append(float(out[3]))
    bare = sorted(bare_runs)[1]

    server = backfill.serve(pages(events, args.limit), state_body(), ROOM_ID)
    env = {"MXARCHIVE_HOMESERVER": f"http://127.0.0.1:{server.server_address[1]}",
           "MXARCHIVE_ACCESS_TOKEN": "bench-token-not-secret"}
    try:
        # Storing alone: no keys, every event waits as missing_key.
        plain_store = os.path.join(work, "store-nokeys")
        shutil.rmtree(plain_store, ignore_errors=True)
        store_seconds, store_rss, new = run_sync(args.bin, plain_store, env, args.limit)
        if new != len(events):
            raise SystemExit(f"sync without keys stored {new} of {len(events)}")

        store = os.path.join(work, "store")
        shutil.rmtree(store, ignore_errors=True)
        t = time.perf_counter()
        subprocess.run([args.bin, "--store", store, "keys", "import", export_path, "--passphrase-file", pass_file],
                       check=True, stdout=subprocess.DEVNULL)
        import_seconds = time.perf_counter() - t
        seconds, rss, new = run_sync(args.bin, store, env, args.limit)
        if new != len(events):
            raise SystemExit(f"the pipeline stored {new} of {len(events)}")
    finally:
        server.shutdown()

    # Every event decrypted, to the corpus's plaintext.
    out = subprocess.run([args.bin, "--store", store, "events", "--room", ROOM_ID, "--jsonl"], check=True,
                         capture_output=True, text=True).stdout
    items = [json.loads(line) for line in out.splitlines()]
    expected = {p["event_id"]: p["body"] for p in plaintexts}
    wrong = sum(1 for i in items if i["decryption"] != "ok" or i["content"].get("body") != expected.get(i["event_id"]))
    if len(items) != len(events) or wrong:
        raise SystemExit(f"pipeline: {len(items)} items, {wrong} not decrypted to the corpus's plaintext")

    n = len(events)
    print(f"# decrypt benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"{n} megolm events over {len(sessions)} sessions, pages of {args.limit} served from memory")
    print(f"bare libolm decrypt loop : {bare:7.2f} s  {n / bare:8.0f} events/s  (median of 3; decrypt calls only)")
    print(f"sync without keys        : {store_seconds:7.2f} s  {n / store_seconds:8.0f} events/s  "
          f"peak RSS {store_rss:.0f} MB  (fetch + store, all missing_key)")
    print(f"keys import              : {import_seconds:7.2f} s  ({len(sessions)} sessions)")
    print(f"pipeline sync            : {seconds:7.2f} s  {n / seconds:8.0f} events/s  peak RSS {rss:.0f} MB  "
          f"(fetch + decrypt + store; all {n} verified against the plaintexts)")
    print(f"ratio pipeline / bare    : {(n / seconds) / (n / bare):7.2f}   (goal >= 0.5)")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
