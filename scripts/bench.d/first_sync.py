#!/usr/bin/env python3
"""The first-sync benchmark's driver (called by `scripts/bench first-sync`).

A fresh organisation of --rooms small rooms (scripts/seed_org.py: two new users, each room with its name,
the member joined and two messages) on the local Synapse, then a first `mxarchive sync --all-joined` of
them as the member into fresh stores, with --jobs 1 and with --jobs N in the same run, alternating for
--rounds rounds (jobs N first in odd rounds, so neither always meets a warmer server). Reports each run's
wall time and peak RSS (/usr/bin/time), the medians, and the ratio of the medians. Goal (issue 10):
--jobs 4 at least 2x faster than --jobs 1.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{os.path.basename(cmd[0])} {cmd[1:3]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return proc.stdout.decode()


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MB, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        out = run(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd)
        elapsed = time.perf_counter() - start
        lines = [l for l in open(tf.name).read().split("\n") if l.strip()]
        return elapsed, int(lines[-1]) / 1024, out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, help="the mxarchive binary (release)")
    p.add_argument("--homeserver", required=True)
    p.add_argument("--data-dir", required=True, help="Synapse's data folder (its registration_shared_secret)")
    p.add_argument("--rooms", type=int, default=200)
    p.add_argument("--jobs", type=int, default=4, help="the parallel run's --jobs (the other is --jobs 1)")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--workdir", help="keep the stores here (default: a temporary folder, removed)")
    args = p.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="mxa-bench-first-sync-")
    os.makedirs(work, exist_ok=True)
    try:
        state = os.path.join(work, "org.json")
        prefix = "bench" + uuid.uuid4().hex[:8]
        log(f"seeding {args.rooms} rooms (seed_org.py, prefix {prefix})")
        t0 = time.perf_counter()
        run([sys.executable, os.path.join(HERE, "..", "seed_org.py"), "create", "--homeserver", args.homeserver,
             "--data-dir", args.data_dir, "--rooms", str(args.rooms), "--prefix", prefix, "--out", state])
        log(f"seeded in {time.perf_counter() - t0:.0f} s")
        with open(state, encoding="utf-8") as f:
            member = json.load(f)["users"]["member"]
        password_file = os.path.join(work, "password")
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(member["password"] + "\n")

        results = {1: [], args.jobs: []}
        for round_ in range(args.rounds):
            order = [args.jobs, 1] if round_ % 2 == 0 else [1, args.jobs]
            for jobs in order:
                store = os.path.join(work, f"store-{round_}-jobs{jobs}")
                run([args.bin, "--store", store, "login", "--homeserver", args.homeserver,
                     "--user", member["user_id"], "--password-file", password_file])
                seconds, rss, out = timed([args.bin, "--store", store, "sync", "--all-joined", "--json",
                                           "--jobs", str(jobs)])
                rooms = json.loads(out.strip().splitlines()[-1])["rooms"]
                failed = [r for r in rooms if "error" in r]
                events = sum(r["new_events"] for r in rooms)
                if len(rooms) != args.rooms or failed:
                    raise SystemExit(f"--jobs {jobs}: {len(rooms)} rooms, {len(failed)} failed")
                log(f"round {round_ + 1}: --jobs {jobs}: {seconds:.2f} s, peak RSS {rss:.1f} MB, "
                    f"{len(rooms)} rooms, {events} events")
                results[jobs].append((seconds, rss, events))
                shutil.rmtree(store, ignore_errors=True)

        def median(jobs, i):
            return statistics.median(r[i] for r in results[jobs])

        serial, parallel = median(1, 0), median(args.jobs, 0)
        summary = {
            "rooms": args.rooms, "rounds": args.rounds,
            "jobs_1": {"seconds": round(serial, 2), "peak_rss_mb": round(median(1, 1), 1),
                       "events": results[1][0][2]},
            f"jobs_{args.jobs}": {"seconds": round(parallel, 2), "peak_rss_mb": round(median(args.jobs, 1), 1),
                                  "events": results[args.jobs][0][2]},
            "speedup": round(serial / parallel, 2),
            "goal_speedup": 2.0,
        }
        print(f"first sync of {args.rooms} rooms: --jobs 1 {serial:.2f} s ({median(1, 1):.1f} MB peak RSS), "
              f"--jobs {args.jobs} {parallel:.2f} s ({median(args.jobs, 1):.1f} MB); "
              f"{serial / parallel:.2f}x faster (goal 2x)")
        print(json.dumps(summary))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
