#!/usr/bin/env python3
"""The backfill benchmark's driver (called by `scripts/bench backfill`).

Part 1, against the real Synapse: the same room (alias #bench:localhost), the same page size, timed as
  * raw:        a plain loop that pages GET /messages (dir=f, limit, lazy-loading filter) over one
                keep-alive connection and appends each page's bytes to a file — the floor set by Synapse;
  * mxarchive:  `mxarchive sync --room #bench:localhost --from-start` into a fresh store;
  * commander:  `matrix-commander --listen all --output json --listen-self` (one run; it is slow).
  raw and mxarchive alternate for --rounds rounds after one warm-up raw pass; medians are compared.

Part 2, the archiver's own ceiling: the recorded pages are multiplied (event ids suffixed) to
--ceiling-events events and served from memory by a minimal HTTP server on 127.0.0.1, so Synapse is out of
the way. `mxarchive sync` end to end (wall time and peak RSS, at two room sizes) against a bare SQLite bulk
insert of the same raw events (one transaction, one prepared INSERT) in this same run.
"""

import argparse
import http.client
import http.server
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

FILTER = json.dumps({"lazy_load_members": True}, separators=(",", ":"))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def http_json(conn, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise SystemExit(f"{method} {path}: HTTP {resp.status} {data[:200]!r}")
    return json.loads(data), data


def q(s):
    return urllib.parse.quote(s, safe="")


def login(conn, user, password):
    reply, _ = http_json(conn, "POST", "/_matrix/client/v3/login", {
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password})
    return reply["access_token"]


def raw_loop(base, token, room_id, limit, out_path):
    """Pages the room forward from its start, writing every reply's bytes. Returns (seconds, events, pages)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    start = time.perf_counter()
    events, pages, frm = 0, [], None
    with open(out_path, "wb") as out:
        while True:
            path = f"/_matrix/client/v3/rooms/{q(room_id)}/messages?dir=f&limit={limit}&filter={q(FILTER)}"
            if frm:
                path += f"&from={q(frm)}"
            reply, data = http_json(conn, "GET", path, token=token)
            out.write(data + b"\n")
            chunk = reply.get("chunk", [])
            events += len(chunk)
            pages.append(reply)
            end = reply.get("end")
            if not chunk or not end or end == frm:
                break
            frm = end
    return time.perf_counter() - start, events, pages


def timed(cmd, env=None, stdout=subprocess.DEVNULL):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MB, stdout text or None)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd, env=env,
                              stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
        lines = [l for l in open(tf.name).read().split("\n") if l.strip()]
        rss_mb = int(lines[-1]) / 1024
        return elapsed, rss_mb, (proc.stdout.decode() if stdout is None else None)


def mxarchive_sync(binary, base, user, password, room, limit, env_extra=None, store=None):
    work = tempfile.mkdtemp(prefix="mxa-bench-")
    store = store or os.path.join(work, "store")
    env = dict(os.environ)
    env.pop("MXARCHIVE_ACCESS_TOKEN", None)
    if env_extra:
        env.update(env_extra)
    else:
        pw = os.path.join(work, "pw")
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, password.encode())
        os.close(fd)
        subprocess.run([binary, "--store", store, "login", "--homeserver", base, "--user", user,
                        "--password-file", pw], check=True, stdout=subprocess.DEVNULL, env=env)
    seconds, rss, out = timed([binary, "--store", store, "sync", "--room", room, "--from-start",
                               "--page-size", str(limit), "--json"], env=env, stdout=None)
    new = sum(r["new_events"] for r in json.loads(out.strip().splitlines()[-1])["rooms"])
    shutil.rmtree(work, ignore_errors=True)
    return seconds, rss, new


def commander(commander_bin, base, user, password, alias, room_id, expected):
    if not os.path.exists(commander_bin):
        return None
    work = tempfile.mkdtemp(prefix="mxa-commander-")
    # matrix-commander creates its store itself at --login (and refuses one that exists).
    creds, store = os.path.join(work, "credentials.json"), os.path.join(work, "store")
    # The test account's throwaway password goes on matrix-commander's command line because it has no
    # other non-interactive way to log in; it exists only on this local test server.
    proc = subprocess.run([commander_bin, "--login", "password", "--homeserver", base, "--user-login", user,
                           "--password", password, "--device", "bench", "--room-default", alias,
                           "-c", creds, "-s", store], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=300)
    if proc.returncode != 0:
        log(f"matrix-commander login failed: {proc.stderr.decode()[-300:]}")
        return None
    out = os.path.join(work, "out.json")
    start = time.perf_counter()
    with open(out, "wb") as f:
        # --listen all looks the room up among the sync's joined rooms by the exact string given: it must
        # be the room id (an alias is not resolved there).
        proc = subprocess.run([commander_bin, "-c", creds, "-s", store, "--listen", "all", "--room", room_id,
                               "--listen-self", "--output", "json"], stdout=f, stderr=subprocess.PIPE,
                              timeout=1800)
    seconds = time.perf_counter() - start
    lines = sum(1 for _ in open(out, "rb"))
    shutil.rmtree(work, ignore_errors=True)
    if proc.returncode != 0:
        log(f"matrix-commander failed: {proc.stderr.decode()[-300:]}")
        return None
    if lines < expected * 0.9:
        log(f"matrix-commander printed {lines} lines for {expected} messages")
    return seconds, lines


# --- part 2: pages served from memory ------------------------------------------------------------

def multiply_pages(pages, room_id, target_events, limit):
    """Copies of the recorded events with suffixed ids until target_events, cut into pages of limit."""
    base_events = [e for p in pages for e in p.get("chunk", [])]
    if not base_events:
        raise SystemExit("no recorded events")
    state = []
    seen = set()
    for p in pages:
        for s in p.get("state", []):
            if s["event_id"] not in seen:
                seen.add(s["event_id"])
                state.append(s)
    events = []
    copy = 0
    while len(events) < target_events:
        for e in base_events:
            if len(events) >= target_events:
                break
            clone = dict(e)
            clone["event_id"] = f"{e['event_id']}_{copy}" if copy else e["event_id"]
            clone["origin_server_ts"] = e.get("origin_server_ts", 0) + copy
            if copy and e.get("type") == "m.room.create":
                continue
            events.append(clone)
        copy += 1
    bodies = {}
    for i in range(0, len(events), limit):
        n = i // limit
        reply = {"chunk": events[i:i + limit], "start": f"p{n}", "end": f"p{n + 1}", "state": state}
        bodies[None if n == 0 else f"p{n}"] = json.dumps(reply, separators=(",", ":")).encode()
    last = (len(events) + limit - 1) // limit
    bodies[f"p{last}"] = json.dumps({"chunk": [], "start": f"p{last}"}).encode()
    raw = [json.dumps(e, separators=(",", ":")) for e in events]
    return bodies, raw


class PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


def serve(bodies, state_body, room_id):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path.endswith("/state"):
                body = state_body
            elif url.path.endswith("/messages"):
                body = bodies.get(query.get("from"))
                if body is None:
                    body = json.dumps({"chunk": [], "start": query.get("from")}).encode()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = PageServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def bare_insert(raw_events, room_id):
    """The floor: one transaction, one prepared INSERT per raw event, into a WAL SQLite file."""
    work = tempfile.mkdtemp(prefix="mxa-bare-")
    db = sqlite3.connect(os.path.join(work, "bare.sqlite"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE events (event_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, position INTEGER NOT NULL,"
               " raw_json TEXT NOT NULL)")
    ids = [json.loads(r)["event_id"] for r in raw_events]
    start = time.perf_counter()
    db.execute("BEGIN")
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                   ((ids[i], room_id, i, raw_events[i]) for i in range(len(raw_events))))
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    shutil.rmtree(work, ignore_errors=True)
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--homeserver", required=True)
    ap.add_argument("--commander", default="")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--ceiling-events", type=int, default=200_000)
    ap.add_argument("--skip-commander", action="store_true")
    args = ap.parse_args()

    seed = json.load(open(args.seed))
    base = args.homeserver.rstrip("/")
    alice = seed["users"]["alice"]
    room = seed["rooms"]["bench"]
    room_id, alias = room["room_id"], "#bench:localhost"
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    token = login(conn, alice["user_id"], alice["password"])
    state_reply, state_body = http_json(conn, "GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state", token=token)
    work = tempfile.mkdtemp(prefix="mxa-bench-pages-")
    pages_file = os.path.join(work, "pages.jsonl")

    print(f"# backfill benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores")
    print(f"## 1. against Synapse: room of {len(room['messages'])} messages, limit={args.limit}")
    _, events, pages = raw_loop(base, token, room_id, args.limit, pages_file)  # warm-up
    log(f"warm-up raw pass: {events} events in {len(pages)} pages")
    raw_times, mx_times, mx_rss = [], [], []
    for r in range(args.rounds):
        seconds, events, pages = raw_loop(base, token, room_id, args.limit, pages_file)
        raw_times.append(seconds)
        seconds, rss, new = mxarchive_sync(args.bin, base, alice["user_id"], alice["password"], alias, args.limit)
        if new != events:
            raise SystemExit(f"mxarchive stored {new} events, the raw loop saw {events}")
        mx_times.append(seconds)
        mx_rss.append(rss)
        log(f"round {r + 1}: raw {raw_times[-1]:.2f} s, mxarchive {seconds:.2f} s")
    raw_med, mx_med = statistics.median(raw_times), statistics.median(mx_times)
    print(f"raw /messages loop      : {raw_med:7.2f} s  {events / raw_med:8.0f} events/s  (median of {args.rounds})")
    print(f"mxarchive sync          : {mx_med:7.2f} s  {events / mx_med:8.0f} events/s  peak RSS {max(mx_rss):.0f} MB")
    print(f"ratio mxarchive / raw   : {mx_med / raw_med:7.2f}   (goal <= 1.10)")
    if not args.skip_commander and args.commander:
        result = commander(args.commander, base, alice["user_id"], alice["password"], alias, room_id,
                           len(room["messages"]))
        if result:
            seconds, lines = result
            print(f"matrix-commander        : {seconds:7.2f} s  {lines} JSON lines")
            print(f"ratio commander / mxarchive : {seconds / mx_med:5.2f}   (goal >= 2)")
        else:
            print("matrix-commander        : not measured (see stderr)")

    print(f"## 2. ceiling: recorded pages multiplied, served from memory, limit={args.limit}")
    for target in (max(args.ceiling_events // 10, events), args.ceiling_events):
        bodies, raw = multiply_pages(pages, room_id, target, args.limit)
        server = serve(bodies, state_body, room_id)
        env = {"MXARCHIVE_HOMESERVER": f"http://127.0.0.1:{server.server_address[1]}",
               "MXARCHIVE_ACCESS_TOKEN": "bench-token-not-secret"}
        seconds, rss, new = mxarchive_sync(args.bin, None, None, None, room_id, args.limit, env_extra=env)
        server.shutdown()
        if new != len(raw):
            raise SystemExit(f"mxarchive stored {new} of {len(raw)} served events")
        bare = bare_insert(raw, room_id)
        print(f"{len(raw):>7} events: mxarchive sync {len(raw) / seconds:8.0f} events/s, peak RSS {rss:5.1f} MB; "
              f"bare SQLite insert {len(raw) / bare:8.0f} events/s; ratio {bare / seconds:5.2f}  "
              f"(goals: >= 20000 events/s, RSS < 100 MB)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
