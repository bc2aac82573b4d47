#!/usr/bin/env python3
"""The nightly-run benchmark (scripts/bench nightly; issue 10.1).

On the local Synapse: an organisation of N small rooms (scripts/seed_org.py, fresh users each run), archived
by a first `sync --all-joined` as the org's member; then a night's news in K rooms (messages, a rename, the
account leaving one, a redaction, an edit) and, in the same run, the nightly `mxarchive sync` (one /sync
from the stored batch token) beside `mxarchive sync --walk-all` (the per-room walk, /state and /messages
per room) on a copy of the same archive. Each run's requests and reply bytes come from its own
`sync --json` `http` object (the client's counters); wall time from here. Both archives are compared room
by room (`events --jsonl`). Goals: at most 30 requests and 250 KB for the nightly run, at least 10x fewer
requests than the walk.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_ORG = os.path.join(HERE, "..", "seed_org.py")


def mxarchive(binary, store, args):
    started = time.monotonic()
    done = subprocess.run([binary, "--store", store] + args, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"bench: mxarchive {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return done.stdout, seconds


def seed_org(args):
    done = subprocess.run([sys.executable, SEED_ORG] + args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: seed_org.py {args[0]} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def login(binary, store, homeserver, user, password, workdir):
    password_file = os.path.join(workdir, "password")
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    mxarchive(binary, store, ["login", "--homeserver", homeserver, "--user", user, "--password-file", password_file])
    os.unlink(password_file)


def synced(binary, store, extra):
    out, seconds = mxarchive(binary, store, ["sync", "--json", "--no-index"] + extra)
    report = json.loads(out.strip().splitlines()[-1])
    return {"requests": report["http"]["requests"], "bytes": report["http"]["bytes_received"],
            "seconds": seconds, "rooms": len(report["rooms"]),
            "new_events": sum(r["new_events"] for r in report["rooms"])}


def copy_archive(source, target):
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(target, "archive.sqlite" + suffix)
        if os.path.exists(path):
            os.unlink(path)
    for suffix in ("", "-wal"):
        path = os.path.join(source, "archive.sqlite" + suffix)
        if os.path.exists(path):
            shutil.copy2(path, os.path.join(target, "archive.sqlite" + suffix))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--homeserver", required=True)
    ap.add_argument("--data-dir", required=True, help="the Synapse data folder (registration_shared_secret)")
    ap.add_argument("--rooms", type=int, default=200)
    ap.add_argument("--changed", type=int, default=6)
    ap.add_argument("--workdir")
    args = ap.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="mxa-bench-nightly-")
    state_file = os.path.join(workdir, "org.json")
    started = time.monotonic()
    seed_org(["create", "--homeserver", args.homeserver, "--data-dir", args.data_dir, "--rooms", str(args.rooms),
              "--prefix", "bench" + uuid.uuid4().hex[:8], "--out", state_file])
    print(f"==> {args.rooms} rooms seeded in {time.monotonic() - started:.0f} s", file=sys.stderr)
    with open(state_file, encoding="utf-8") as f:
        state = json.load(f)
    member = state["users"]["member"]

    nightly_store, walk_store = os.path.join(workdir, "nightly"), os.path.join(workdir, "walk")
    for store in (nightly_store, walk_store):
        login(args.bin, store, args.homeserver, member["user_id"], member["password"], workdir)
    first = synced(args.bin, nightly_store, ["--all-joined"])
    print(f"==> first sync --all-joined: {first['requests']} requests, {first['seconds']:.1f} s", file=sys.stderr)
    copy_archive(nightly_store, walk_store)

    news = json.loads(seed_org(["news", "--homeserver", args.homeserver, "--state", state_file,
                                "--rooms", str(args.changed), "--seed", uuid.uuid4().hex[:6]]))
    changed = [room["room_id"] for room in news["changed"]]

    nightly = synced(args.bin, nightly_store, [])
    walk = synced(args.bin, walk_store, ["--walk-all"])

    differing = []
    for room in state["rooms"]:
        a, _ = mxarchive(args.bin, nightly_store, ["events", "--room", room["room_id"], "--jsonl"])
        b, _ = mxarchive(args.bin, walk_store, ["events", "--room", room["room_id"], "--jsonl"])
        if a != b:
            differing.append(room["room_id"])

    ratio = lambda a, b: round(a / b, 1) if b else None  # noqa: E731
    result = {
        "rooms": args.rooms, "changed": len(changed),
        "first_sync": first,
        "nightly": nightly, "walk_all": walk,
        "walk_over_nightly": {"requests": ratio(walk["requests"], nightly["requests"]),
                              "bytes": ratio(walk["bytes"], nightly["bytes"]),
                              "seconds": ratio(walk["seconds"], nightly["seconds"])},
        "archives_identical": not differing, "differing_rooms": differing,
        "goals": {"nightly_requests_le_30": nightly["requests"] <= 30,
                  "nightly_bytes_le_250KB": nightly["bytes"] <= 250 * 1024,
                  "walk_requests_ge_10x": walk["requests"] >= 10 * nightly["requests"]},
    }
    print(f"{'':14}{'requests':>10}{'KB received':>14}{'seconds':>10}")
    for label, run in (("nightly sync", nightly), ("sync --walk-all", walk)):
        print(f"{label:14}{run['requests']:>10}{run['bytes'] / 1024:>14.1f}{run['seconds']:>10.2f}")
    r = result["walk_over_nightly"]
    print(f"{'walk/nightly':14}{r['requests']:>9}x{r['bytes']:>13}x{r['seconds']:>9}x")
    print(f"archives identical: {result['archives_identical']}; goals: {result['goals']}")
    print(json.dumps(result))
    if differing or not all(result["goals"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
