#!/usr/bin/env python3
"""The first-sync benchmark's driver (called by `scripts/bench first-sync`).

A fresh organisation of --rooms small rooms (scripts/seed_org.py: two new users, each room with its name,
the member joined and two messages) on the local Synapse, then a first `mxarchive sync --all-joined` of
them as the member into fresh stores, with --jobs 1 and with --jobs N in the same run, alternating for
--rounds rounds (jobs N first in odd rounds, so neither always meets a warmer server). Reports each run's
wall time, peak RSS and CPU time (/usr/bin/time), Synapse's CPU time meanwhile (/proc), the medians, and
the ratio of the medians. Goal (issue 10): --jobs 4 at least 2x faster than --jobs 1.

It measures at each --rtt-ms: 0 is Synapse on loopback, where the run waits on Synapse's one Python process
(its CPU time near the parallel run's wall time says so, and no client can go faster than that); a round
trip above 0 puts latency_proxy.py in between, as for a homeserver reached over a network, where the time
a serial run spends waiting is what --jobs overlaps.

What it leaves out: Synapse's CPU is its main process's (homeserver.pid; no workers or database server,
as the test profile has neither), and the latency proxy's own CPU, taken from the same cores, is not
counted. The proxy models a round trip only: no TLS handshake, slow start or bandwidth limit, which small
rooms hardly meet.
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
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{os.path.basename(cmd[0])} {cmd[1:3]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return proc.stdout.decode()


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (/proc/PID/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def timed(cmd, server_pid):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MB, stdout, the command's CPU seconds,
    the homeserver's CPU seconds meanwhile). The CPU figures say which side a run waited on: Synapse is
    one Python process, so it cannot use more than one of the cores however many rooms are asked at once."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        server_before = cpu_seconds(server_pid)
        start = time.perf_counter()
        out = run(["/usr/bin/time", "-f", "%M %U %S", "-o", tf.name] + cmd)
        elapsed = time.perf_counter() - start
        server_after = cpu_seconds(server_pid)
        lines = [l for l in open(tf.name).read().split("\n") if l.strip()]
        rss_kb, user, system = lines[-1].split()
        server = None if server_before is None or server_after is None else server_after - server_before
        return elapsed, int(rss_kb) / 1024, out, float(user) + float(system), server


def start_latency_proxy(work, upstream_port, rtt_ms):
    """The latency proxy (latency_proxy.py) in front of the homeserver; returns (process, its URL)."""
    port_file = os.path.join(work, f"latency-proxy-{rtt_ms:g}.port")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "latency_proxy.py"), "--upstream-port",
                             str(upstream_port), "--rtt-ms", str(rtt_ms), "--port-file", port_file])
    for _ in range(100):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, f"http://127.0.0.1:{int(f.read().strip())}"
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the latency proxy did not start")


def measure(args, work, user_id, password_file, server_pid, rtt):
    """--rounds rounds of the first sync with --jobs 1 and --jobs N over a link of `rtt` ms (0: direct)."""
    proxy = None
    homeserver = args.homeserver
    if rtt > 0:
        upstream = urllib.parse.urlsplit(args.homeserver)
        if upstream.scheme != "http" or upstream.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("--rtt-ms above 0 needs the local homeserver over http://127.0.0.1:PORT")
        proxy, homeserver = start_latency_proxy(work, upstream.port or 80, rtt)
    try:
        results = {1: [], args.jobs: []}
        for round_ in range(args.rounds):
            order = [args.jobs, 1] if round_ % 2 == 0 else [1, args.jobs]
            for jobs in order:
                store = os.path.join(work, f"store-{rtt:g}-{round_}-jobs{jobs}")
                run([args.bin, "--store", store, "login", "--homeserver", homeserver,
                     "--user", user_id, "--password-file", password_file])
                seconds, rss, out, cpu, server_cpu = timed(
                    [args.bin, "--store", store, "sync", "--all-joined", "--json", "--jobs", str(jobs)], server_pid)
                report = json.loads(out.strip().splitlines()[-1])
                rooms = report["rooms"]
                failed = [r for r in rooms if "error" in r]
                events = sum(r["new_events"] for r in rooms)
                if len(rooms) != args.rooms or failed:
                    raise SystemExit(f"--jobs {jobs}: {len(rooms)} rooms, {len(failed)} failed")
                requests = report.get("http", {}).get("requests")
                server_text = "?" if server_cpu is None else f"{server_cpu:.2f}"
                log(f"rtt {rtt:g} ms, round {round_ + 1}: --jobs {jobs}: {seconds:.2f} s, peak RSS {rss:.1f} MB, "
                    f"{len(rooms)} rooms, {events} events, {requests} requests; "
                    f"CPU: mxarchive {cpu:.2f} s, Synapse {server_text} s")
                results[jobs].append((seconds, rss, events, cpu, server_cpu, requests))
                shutil.rmtree(store, ignore_errors=True)
    finally:
        if proxy:
            proxy.terminate()
            proxy.wait()

    def median(jobs, i):
        return statistics.median(r[i] for r in results[jobs])

    def server_median(jobs):
        values = [r[4] for r in results[jobs] if r[4] is not None]
        return round(statistics.median(values), 2) if values else None

    def figures(jobs):
        return {"seconds": round(median(jobs, 0), 2), "peak_rss_mb": round(median(jobs, 1), 1),
                "events": results[jobs][0][2], "requests": results[jobs][0][5],
                "cpu_seconds": round(median(jobs, 3), 2), "synapse_cpu_seconds": server_median(jobs)}
    serial, parallel = median(1, 0), median(args.jobs, 0)
    # Per run, then the median: Synapse's CPU seconds over the same run's wall time.
    shares = [r[4] / r[0] for r in results[args.jobs] if r[4] is not None]
    return {
        "rtt_ms": rtt,
        "jobs_1": figures(1),
        f"jobs_{args.jobs}": figures(args.jobs),
        "speedup": round(serial / parallel, 2),
        # Synapse is one Python process: busy near 100% of the parallel run, it is what the run waits on.
        "synapse_busy_share": round(100 * statistics.median(shares)) if shares else None,
        "goal_speedup": 2.0,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, help="the mxarchive binary (release)")
    p.add_argument("--homeserver", required=True)
    p.add_argument("--data-dir", required=True, help="Synapse's data folder (its registration_shared_secret)")
    p.add_argument("--rooms", type=int, default=200)
    p.add_argument("--jobs", type=int, default=4, help="the parallel run's --jobs (the other is --jobs 1)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of both runs; medians are reported (default 3)")
    p.add_argument("--workdir", help="keep the stores here (default: a temporary folder, removed)")
    p.add_argument("--rtt-ms", type=lambda text: [float(x) for x in text.split(",")], default=[0.0, 25.0],
                   help="round-trip times to measure at, comma-separated; 0 is the homeserver directly, others "
                        "go through scripts/bench.d/latency_proxy.py (default 0,25: on the same machine, and "
                        "a homeserver in the same region)")
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

        server_pid = None
        try:
            with open(os.path.join(args.data_dir, "homeserver.pid")) as f:
                server_pid = int(f.read().strip())
        except (OSError, ValueError):
            log("no homeserver.pid in the data folder: Synapse's CPU time is not measured")
        summaries = []
        for rtt in args.rtt_ms:
            summaries.append(measure(args, work, member["user_id"], password_file, server_pid, rtt))
        for summary in summaries:
            link = "loopback" if summary["rtt_ms"] == 0 else f"{summary['rtt_ms']:g} ms round trip"
            serial, parallel = summary["jobs_1"], summary[f"jobs_{args.jobs}"]
            print(f"first sync of {args.rooms} rooms, {link}: --jobs 1 {serial['seconds']:.2f} s "
                  f"({serial['peak_rss_mb']:.1f} MB peak RSS), --jobs {args.jobs} {parallel['seconds']:.2f} s "
                  f"({parallel['peak_rss_mb']:.1f} MB); {summary['speedup']:.2f}x faster (goal 2x); "
                  f"Synapse busy {summary['synapse_busy_share']}% of the --jobs {args.jobs} run")
        print(json.dumps({"rooms": args.rooms, "rounds": args.rounds, "runs": summaries}))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
