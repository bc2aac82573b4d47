#!/usr/bin/env python3
"""scripts/bench static-search — the HTML export's static search at a million messages (issue 11).

A generated room (the export bench's corpus, scripts/bench.d/export.py) is exported to HTML (time and
peak RSS). Then, in headless Chromium over a loopback HTTP server that logs every byte it sends, each
query is run on a fresh profile: the bytes fetched to open index.html and run the query, and the time
from the query (typed into the box by a probe script the server adds to index.html) until the first
result (or "no messages") is in the DOM.

Beside it, the same for the single-file search the export had before the fragmented index (one search.js
per room holding every message's [href, time, sender, first 500 characters], scanned by that version's
assets/search.js): that writer gave a room of more than 200,000 messages no search data at all, so the
bench writes that file itself, as that writer would without its limit, from the same corpus, and takes
that version's search.js from git (`--old-ref`, default OLD_SEARCH_REF: the last commit before the
fragmented index replaced it; `main` would now give the new script, which cannot read the old file).
"""
import argparse
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import sqlite3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export as export_bench  # noqa: E402  (the corpus and the RSS probe)

# The parent of bd2c792, the commit that brought the fragmented index: its search.js is the last single-file one.
OLD_SEARCH_REF = "bd2c792^"

QUERIES = [("rare", "654321"), ("frequent", "message"), ("two words", "backup finished"),
           ("prefix", "deplo*"), ("phrase", '"needs another look"'),
           # A word no message has beside the most frequent one (its key's fragment would be "message"'s
           # without the split by size), and a rare word with a frequent one (rarest group first).
           ("absent, beside a frequent word", "messenger"), ("rare and frequent", "message 654321")]

# Runs in the page after the archive's scripts: types the query from the URL's fragment into the box and
# reports how long until the results list (or the status line saying nothing matches) changes.
PROBE = r"""
(function () {
  var query = decodeURIComponent(location.hash.slice(1));
  function report(data) { new Image().src = "/bench-report?" + encodeURIComponent(JSON.stringify(data)); }
  window.addEventListener("load", function () {
    var box = document.getElementById("mxa-search"), out = document.getElementById("mxa-results");
    var status = document.getElementById("mxa-search-status");
    var opened = performance.now();
    if (!box || !out) { report({error: "no search box", opened: opened}); return; }
    var start = 0, done = false;
    function check() {
      if (done) return;
      var text = status ? status.textContent : "";
      if (out.childElementCount > 0 || /No messages/.test(text)) {
        done = true;
        report({opened: opened, first: performance.now() - start, results: out.childElementCount, status: text});
      }
    }
    new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
    setTimeout(function () { start = performance.now(); box.value = query; box.dispatchEvent(new Event("input")); check(); }, 50);
    setTimeout(function () { if (!done) { done = true; report({timeout: true, opened: opened}); } }, 60000);
  });
})();
"""


class Server:
    """Serves one site folder; logs (path, bytes) of every response; waits for the probe's report."""

    def __init__(self, root):
        self.root = root
        self.log = []
        self.report = None
        self.event = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = urllib.parse.urlparse(self.path)
                if path.path == "/bench-report":
                    outer.report = json.loads(urllib.parse.unquote(path.query))
                    outer.event.set()
                    self.send_response(204)
                    self.end_headers()
                    return
                if path.path == "/bench-probe.js":
                    self.send(PROBE.encode(), "text/javascript", count=False)
                    return
                file = os.path.normpath(os.path.join(outer.root, urllib.parse.unquote(path.path).lstrip("/")))
                if not file.startswith(outer.root) or not os.path.isfile(file):
                    outer.log.append((path.path, 0, 404))
                    self.send_error(404)
                    return
                with open(file, "rb") as f:
                    data = f.read()
                kind = "text/html" if file.endswith(".html") else "text/javascript" if file.endswith(".js") else "text/css"
                if path.path == "/index.html":
                    data = data.replace(b"</body>", b'<script src="/bench-probe.js"></script>\n</body>')
                outer.log.append((path.path, len(data), 200))
                self.send(data, kind)

            def send(self, data, kind, count=True):
                self.send_response(200)
                self.send_header("Content-Type", kind + "; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

        class Threading(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Threading(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def measure(self, query, chromium):
        self.log, self.report = [], None
        self.event.clear()
        profile = tempfile.mkdtemp(prefix="mxa-bench-chromium-")
        url = f"http://127.0.0.1:{self.port}/index.html#{urllib.parse.quote(query)}"
        browser = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                    "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
                                    f"--user-data-dir={profile}", url],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.event.wait(120)
        finally:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
            shutil.rmtree(profile, ignore_errors=True)
        sent = sum(size for _, size, _ in self.log)
        return self.report or {"timeout": True}, sent, len(self.log)

    def stop(self):
        self.httpd.shutdown()


def write_old_site(store, new_site, old_site, old_ref):
    """The single-file search, as the writer before the fragmented index made it (without its 200,000-message limit)."""
    shutil.rmtree(old_site, ignore_errors=True)
    os.makedirs(os.path.join(old_site, "assets"))
    shutil.copy(os.path.join(new_site, "assets", "style.css"), os.path.join(old_site, "assets"))
    old_js = subprocess.run(["git", "show", f"{old_ref}:exports/html/assets/search.js"], check=True,
                            capture_output=True).stdout
    with open(os.path.join(old_site, "assets", "search.js"), "wb") as f:
        f.write(old_js)
    with open(os.path.join(new_site, "index.html"), encoding="utf-8") as f:
        index = f.read()
    room_dir = index.split('href="rooms/')[1].split("/")[0]
    os.makedirs(os.path.join(old_site, "rooms", room_dir))
    script = f"rooms/{room_dir}/search.js"
    index = index.replace('<script src="search/meta.js"></script>', f'<script src="{script}"></script>')
    with open(os.path.join(old_site, "index.html"), "w", encoding="utf-8") as f:
        f.write(index)
    db = sqlite3.connect(os.path.join(store, "archive.sqlite"))
    with open(os.path.join(old_site, script), "w", encoding="utf-8") as out:
        out.write('(window.mxaSearchRooms = window.mxaSearchRooms || []).push({"name": "Export bench room", "base": '
                  + json.dumps(f"rooms/{room_dir}/") + ', "docs": [\n')
        for raw, ts in db.execute("SELECT raw_json, origin_server_ts FROM events WHERE type = 'm.room.message' ORDER BY position"):
            event = json.loads(raw)
            body = event["content"].get("body", "")
            if len(body) > 500:
                body = body[:500] + "…"
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts / 1000))
            month = when[:7]
            sender = event["sender"][1:].split(":")[0].title()
            out.write(json.dumps([f"{month}.html#{event['event_id']}", when, sender, body], ensure_ascii=False) + ",\n")
        out.write("[]]});\n")
    db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--old-ref", default=OLD_SEARCH_REF)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", help="keep the exported sites in this folder")
    args = ap.parse_args()
    store = os.path.join(args.cache, f"bench-export-store-{args.messages}-{args.months}")
    export_bench.build_corpus(args.bin, store, args.messages, args.months)
    work = args.keep or tempfile.mkdtemp(prefix="mxa-bench-static-search-")
    os.makedirs(work, exist_ok=True)
    site = os.path.join(work, "site")
    old_site = os.path.join(work, "old-site")
    shutil.rmtree(site, ignore_errors=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    seconds, rss = export_bench.peak_rss([args.bin, "--store", store, "export", "--format", "html", "--output", site], env)
    export_bench.log(f"html export: {seconds:.1f} s, peak RSS {rss:.0f} MB")
    search_bytes = export_bench.du(os.path.join(site, "search"))
    files = sum(len(f) for _, _, f in os.walk(os.path.join(site, "search")))
    write_old_site(store, site, old_site, args.old_ref)
    old_bytes = os.path.getsize(next(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(old_site, "rooms")) for f in fs))

    rows = []
    for label, folder in [("static index", site), ("single file (before)", old_site)]:
        server = Server(os.path.realpath(folder))
        try:
            opened, sent, requests = server.measure("", args.chromium)
            rows.append((label, "(open index.html)", sent, requests, opened.get("opened"), None, ""))
            for name, query in QUERIES:
                report, sent, requests = server.measure(query, args.chromium)
                rows.append((label, f"{name}: {query}", sent, requests, report.get("opened"), report.get("first"),
                             "timeout" if report.get("timeout") else report.get("status", "")))
                export_bench.log(f"{label} {query}: {sent} bytes, {report}")
        finally:
            server.stop()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()[0]
    print(f"static search benchmark: {args.messages:,} messages over {args.months} months, headless Chromium over "
          f"loopback HTTP, fresh profile per query, load average {load:.1f} on {os.cpu_count()} cores")
    print(f"export: {seconds:.1f} s, peak RSS {rss:.0f} MB; search/ holds {files} files, {search_bytes / 1e6:.1f} MB; "
          f"the single search.js of before would be {old_bytes / 1e6:.1f} MB")
    print(f"{'search':20} {'query':48} {'KB fetched':>10} {'requests':>8} {'load ms':>8} {'first result ms':>15}  status")
    for label, query, sent, requests, opened, first, status in rows:
        first_text = f"{first:15.0f}" if isinstance(first, (int, float)) else f"{'-':>15}"
        opened_text = f"{opened:8.0f}" if isinstance(opened, (int, float)) else f"{'-':>8}"
        print(f"{label:20} {query:48} {sent / 1024:10.1f} {requests:8} {opened_text} {first_text}  {status}")
    print("goals: index.html opens with < 200 KB fetched; any query < 2 MB and first results < 500 ms; export < 60 s, < 200 MB RSS")


if __name__ == "__main__":
    main()
