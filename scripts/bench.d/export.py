#!/usr/bin/env python3
"""The export benchmark's driver (called by `scripts/bench export`).

Builds a corpus store (--messages messages in one room, spread over --months months, with members, 
changes, reactions, replies, thread replies and formatted bodies mixed in) by letting mxarchive create the schema and
inserting rows with Python's sqlite3 in the store's own layout. Then, in one run, with the release binary:

  * `mxarchive export --format html --output X.tar.zst` and `--format json --output X.tar.zst`:
    wall seconds, MB/s of (uncompressed) output, peak RSS (getrusage of the child);
  * the same two formats to a folder, and `tar --zstd -cf` of that folder: the archive step's share is
    (archive export - folder export) against tar --zstd's own time. Rounds alternate; medians compared.

The corpus is cached by its parameters under $MXARCHIVE_CACHE/bench-export-store-*.
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time

SUBJECTS = ["The deploy", "Our backup job", "The release branch", "The CI runner", "That flaky test",
            "The staging server", "Synapse", "The search index", "Lunch on Friday", "Project Heron"]
VERBS = ["broke again", "finished early", "needs another look", "is finally green", "ran out of disk",
         "got rescheduled", "looks fine to me", "is blocked on review", "took forty minutes", "got faster"]
TAILS = ["", " 🙂", " — see the ticket", ", any ideas?", "!", " (again)", " 🎉", ", grüße aus Köln", " #ops"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def create_store(binary, store):
    """An empty archive with mxarchive's own schema. Read commands never create an archive (a mistyped
    --store must not become an empty one), so the folder and an empty database file are made here as
    mxarchive makes them (0700, 0600), and `status` opening them runs the migrations."""
    os.makedirs(store, mode=0o700)
    os.close(os.open(os.path.join(store, "archive.sqlite"), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    subprocess.run([binary, "--store", store, "status"], check=True, stdout=subprocess.DEVNULL)


def build_corpus(binary, store, messages, months, tails=TAILS):
    """`tails` ends the messages' bodies (one at random each); the tests pass more (CJK) without changing
    the bench's corpus."""
    if os.path.exists(os.path.join(store, "archive.sqlite")) and os.path.exists(os.path.join(store, ".complete")):
        log(f"reusing corpus {store}")
        return
    shutil.rmtree(store, ignore_errors=True)
    create_store(binary, store)
    db = sqlite3.connect(os.path.join(store, "archive.sqlite"))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    room = "!benchexport:localhost"
    db.execute("INSERT INTO rooms (room_id, room_version, name, topic, canonical_alias, backward_state) "
               "VALUES (?, '12', 'Export bench room', 'A million messages', '#bench-export:localhost', 'complete')",
               (room,))
    rng = random.Random(7)
    users = [f"@user{i}:localhost" for i in range(20)]
    start = 1_672_531_200_000  # 2023-01-01
    span = months * 30 * 86_400_000
    step = span // messages
    t0 = time.monotonic()
    rows = []
    position = 0
    thread_roots = []
    insert = ("INSERT INTO events (event_id, room_id, position, sender, type, state_key, origin_server_ts, raw_json, "
              "rel_type, rel_target, rel_key, reply_to, is_timeline_item) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
    for u in users:
        position += 1
        ev = {"event_id": f"$m{position}", "room_id": room, "sender": u, "type": "m.room.member", "state_key": u,
              "origin_server_ts": start, "content": {"membership": "join", "displayname": u[1:].split(":")[0].title()}}
        rows.append((ev["event_id"], room, position, u, "m.room.member", u, start, json.dumps(ev), None, None, None, None, 1))
    for i in range(messages):
        position += 1
        ts = start + i * step
        sender = users[i % len(users)] if rng.random() < 0.7 else rng.choice(users)
        eid = f"$e{i}"
        body = f"message {i}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)}{rng.choice(tails)}"
        content = {"msgtype": "m.text", "body": body}
        rel_type = rel_target = reply_to = None
        r = rng.random()
        if r < 0.01 and i > 10:
            thread_roots.append(f"$e{i - 5}")
        if r < 0.03 and thread_roots:
            rel_type, rel_target = "m.thread", rng.choice(thread_roots[-20:])
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": rel_target, "is_falling_back": True,
                                       "m.in_reply_to": {"event_id": rel_target}}
        elif r < 0.06 and i > 0:
            reply_to = f"$e{i - rng.randint(1, min(i, 50))}"
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        elif r < 0.08:
            content = {"msgtype": "m.text", "body": body, "format": "org.matrix.custom.html",
                       "formatted_body": f"<p><b>{body}</b> <a href=\"https://example.org/{i}\">link</a></p>"}
        ev = {"event_id": eid, "room_id": room, "sender": sender, "type": "m.room.message", "origin_server_ts": ts,
              "content": content}
        rows.append((eid, room, position, sender, "m.room.message", None, ts, json.dumps(ev, ensure_ascii=False),
                     rel_type, rel_target, None, reply_to, 1))
        if rng.random() < 0.02:
            position += 1
            rid = f"$r{i}"
            rc = {"m.relates_to": {"rel_type": "m.annotation", "event_id": eid, "key": rng.choice(["👍", "🎉", "❤️"])}}
            rev = {"event_id": rid, "room_id": room, "sender": rng.choice(users), "type": "m.reaction",
                   "origin_server_ts": ts + 1, "content": rc}
            rows.append((rid, room, position, rev["sender"], "m.reaction", None, ts + 1, json.dumps(rev, ensure_ascii=False),
                         "m.annotation", eid, rc["m.relates_to"]["key"], None, 0))
        if len(rows) >= 50_000:
            db.executemany(insert, rows)
            rows = []
    db.executemany(insert, rows)
    db.commit()
    db.close()
    open(os.path.join(store, ".complete"), "w").close()
    log(f"corpus: {messages} messages in {time.monotonic() - t0:.0f} s")


def timed(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS in MB of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    elapsed = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the biggest last or read it per child.
    return elapsed, max(after, before) / 1024


def peak_rss(cmd, env=None):
    """Wall seconds and peak RSS (MB) of one command, via /usr/bin/time when present."""
    if shutil.which("/usr/bin/time"):
        with tempfile.NamedTemporaryFile("r") as f:
            t0 = time.monotonic()
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + cmd, check=True,
                           stdout=subprocess.DEVNULL, env=env)
            elapsed = time.monotonic() - t0
            return elapsed, int(f.read().strip().splitlines()[-1]) / 1024
    return timed(cmd, env)


def du(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(dirpath, name))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    store = os.path.join(args.cache, f"bench-export-store-{args.messages}-{args.months}")
    build_corpus(args.bin, store, args.messages, args.months)
    work = tempfile.mkdtemp(prefix="mxa-bench-export-")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    results = []
    try:
        for fmt in ["json", "html"]:
            dirs, zsts, tars = [], [], []
            size = zsize = tsize = 0
            # Folder and .tar.zst exports alternate, so that load from elsewhere on the machine hits both
            # alike; medians are compared. The archive step is their difference.
            # Each round writes a folder of its own, all removed at the end: ext4 passes over inodes freed
            # in the last ~30 s when it makes new ones, so a folder export right after deleting the last
            # round's 34,000 files cost up to 20 s of kernel time more (the extra run below
            # measures that case on its own).
            for r in range(args.rounds):
                folder = os.path.join(work, f"{fmt}-dir{r}")
                dirs.append(peak_rss([args.bin, "--store", store, "export", "--format", fmt, "--output", folder], env))
                size = du(folder)
                archive = os.path.join(work, f"{fmt}.tar.zst")
                zsts.append(peak_rss([args.bin, "--store", store, "export", "--format", fmt, "--output", archive], env))
                zsize = os.path.getsize(archive)
                tar_out = os.path.join(work, f"{fmt}-tar.tar.zst")
                t0 = time.monotonic()
                subprocess.run(["tar", "--zstd", "-cf", tar_out, "-C", folder, "."], check=True)
                tars.append(time.monotonic() - t0)
                tsize = os.path.getsize(tar_out)
                log(f"{fmt} round {r + 1}: folder {dirs[-1][0]:.1f} s, .tar.zst {zsts[-1][0]:.1f} s, tar --zstd {tars[-1]:.1f} s")
            results.append((fmt, size, dirs, zsts, zsize, tars, tsize))
            if fmt == "html":
                # A nightly `rm -rf site && mxarchive export … --output site`: the same export right after
                # a folder of as many files was deleted.
                shutil.rmtree(os.path.join(work, f"{fmt}-dir0"))
                after_delete = peak_rss([args.bin, "--store", store, "export", "--format", fmt, "--output",
                                         os.path.join(work, f"{fmt}-dir0")], env)
                log(f"{fmt} right after deleting a folder export: {after_delete[0]:.1f} s")
            for r in range(args.rounds):
                shutil.rmtree(os.path.join(work, f"{fmt}-dir{r}"), ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    load = os.getloadavg()[0]
    print(f"export benchmark: {args.messages:,} messages over {args.months} months, release build, "
          f"SOURCE_DATE_EPOCH set, {args.rounds} alternating rounds (medians), load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'format':6} {'output MB':>9} {'folder s':>9} {'MB/s':>6} | {'.tar.zst s':>10} {'MB/s':>6} {'zst MB':>7} "
          f"{'peak RSS MB':>11} | {'tar --zstd s':>12} {'archive step s':>14} {'ratio':>6}")
    for fmt, size, dirs, zsts, zsize, tars, tsize in results:
        mb = size / 1e6
        sd = med([d[0] for d in dirs])
        sz = med([z[0] for z in zsts])
        st = med(tars)
        rss = max(x[1] for x in dirs + zsts)
        step = max(sz - sd, 0.0)
        print(f"{fmt:6} {mb:9.1f} {sd:9.1f} {mb / sd:6.1f} | {sz:10.1f} {mb / sz:6.1f} {zsize / 1e6:7.1f} {rss:11.0f} | "
              f"{st:12.1f} {step:14.1f} {step / st if st > 0 else 0:5.2f}×")
        print(f"       rounds: folder {', '.join(f'{d[0]:.1f}' for d in dirs)} s; .tar.zst {', '.join(f'{z[0]:.1f}' for z in zsts)} s; "
              f"tar --zstd {', '.join(f'{t:.1f}' for t in tars)} s ({tsize / 1e6:.1f} MB)")
    print(f"html folder export right after deleting the previous one: {after_delete[0]:.1f} s, peak RSS {after_delete[1]:.0f} MB")
    print("archive step = median .tar.zst export − median folder export (0 when within noise); goal ≤ 1.5× tar --zstd")


if __name__ == "__main__":
    main()
