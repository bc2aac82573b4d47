#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between mxarchive and a homeserver, for the test suite.

    fault-proxy.py --upstream http://127.0.0.1:PORT --port-file FILE --counts-file FILE
                   [--seed N] [--stall-seconds S] (--mixed [--min-gap K] | --fail-after N --fail-with FAULT
                   [--fail-path PART])

Each request from the client is read whole, then either forwarded to the upstream (a fresh connection
per request; the reply is read whole and re-sent with a Content-Length, keeping the client's connection
alive) or answered with a fault:

  close_mid_body   a 200 head announcing the full length, half the body, then the connection closed
  reset            half the head, then a TCP reset (SO_LINGER 0)
  http_500/502/503 an error reply, not forwarded
  rate_limit_ms    429 M_LIMIT_EXCEEDED with retry_after_ms (200 ms)
  rate_limit_header 429 M_LIMIT_EXCEEDED with only a `Retry-After: 1` header
  stall            nothing for --stall-seconds (longer than the client's timeout), then a close
  truncated_json   forwarded, but a 200's body cut in half, with a Content-Length that matches the cut
  unknown_token    401 M_UNKNOWN_TOKEN
  unknown_token_soft 401 M_UNKNOWN_TOKEN with soft_logout: true

--mixed: a seeded schedule. Between two faults pass --min-gap clean requests (so one request in
min-gap + 1 is faulted); the fault types come from a seeded shuffle of all of them, refilled
when used up, so every type is injected once before any is injected twice. A request whose previous
attempt was faulted is always passed (keyed by method and target), so a client that retries gets through.
Login and token refresh are never faulted: a cut /refresh reply would lose the single-use refresh token,
which is not what these tests are about.

--fail-after N --fail-with FAULT: a fault that never clears. The first N requests whose target contains
--fail-path (default: any) are forwarded; every later one gets FAULT.

Counts (requests seen, faults per type, the seed) are rewritten to --counts-file as JSON after every
request; the seed and port are printed on stdout at start.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys
import urllib.parse

FAULTS = ["close_mid_body", "reset", "http_500", "http_502", "http_503", "rate_limit_ms",
          "rate_limit_header", "stall", "truncated_json", "unknown_token", "unknown_token_soft"]
NEVER_FAULTED = ("/_matrix/client/v3/login", "/_matrix/client/v3/refresh", "/_matrix/client/r0/refresh")
REASONS = {200: "OK", 401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


class Schedule:
    """Decides, request by request, which fault (or none) to inject."""

    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.mixed = args.mixed
        self.min_gap = args.min_gap
        self.fail_after = args.fail_after
        self.fail_with = args.fail_with
        self.fail_path = args.fail_path or ""
        self.bag = []
        self.clean_since_fault = self.min_gap  # the first request may be faulted after the gap below
        self.gap = self.min_gap
        self.faulted_keys = set()
        self.matching = 0

    def decide(self, method, target):
        path = target.split("?", 1)[0]
        if path.startswith(NEVER_FAULTED):
            return None
        if not self.mixed:
            if self.fail_path not in target:
                return None
            self.matching += 1
            return self.fail_with if self.matching > self.fail_after else None
        key = (method, target)
        if key in self.faulted_keys:
            # The retry of a faulted request passes: the schedule tests recovery, not endurance.
            self.faulted_keys.discard(key)
            self.clean_since_fault += 1
            return None
        if self.clean_since_fault < self.gap:
            self.clean_since_fault += 1
            return None
        if not self.bag:
            self.bag = FAULTS[:]
            self.rng.shuffle(self.bag)
        fault = self.bag.pop()
        self.faulted_keys.add(key)
        self.clean_since_fault = 0
        self.gap = self.min_gap
        return fault


class Proxy:
    def __init__(self, args):
        upstream = urllib.parse.urlsplit(args.upstream)
        self.upstream_host = upstream.hostname
        self.upstream_port = upstream.port or 80
        self.schedule = Schedule(args)
        self.stall_seconds = args.stall_seconds
        self.counts_file = args.counts_file
        self.seed = args.seed
        self.requests = 0
        self.faults = {name: 0 for name in FAULTS}
        self.write_counts()

    def write_counts(self):
        data = {"seed": self.seed, "requests": self.requests, "faults": self.faults,
                "faults_total": sum(self.faults.values())}
        temporary = self.counts_file + ".tmp"
        with open(temporary, "w") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(temporary, self.counts_file)

    def count(self, fault):
        self.faults[fault] += 1
        self.write_counts()

    async def handle(self, reader, writer):
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                method, target, headers, body = request
                self.requests += 1
                fault = self.schedule.decide(method, target)
                keep_open = await self.answer(fault, method, target, headers, body, writer)
                if fault is None:
                    self.write_counts()
                if not keep_open:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def answer(self, fault, method, target, headers, body, writer):
        """Sends the reply (or the fault) to one request; False when the connection is done with."""
        if fault is None:
            status, reply_headers, reply = await self.forward(method, target, headers, body)
            await send(writer, status, reply_headers, reply)
            return True
        if fault in ("http_500", "http_502", "http_503"):
            status = int(fault[5:])
            self.count(fault)
            await send(writer, status, [], error_body("M_UNKNOWN", f"injected {status}"))
            return True
        if fault == "rate_limit_ms":
            self.count(fault)
            body = json.dumps({"errcode": "M_LIMIT_EXCEEDED", "error": "injected", "retry_after_ms": 200})
            await send(writer, 429, [], body.encode())
            return True
        if fault == "rate_limit_header":
            self.count(fault)
            await send(writer, 429, [("Retry-After", "1")], error_body("M_LIMIT_EXCEEDED", "injected"))
            return True
        if fault in ("unknown_token", "unknown_token_soft"):
            self.count(fault)
            body = {"errcode": "M_UNKNOWN_TOKEN", "error": "injected: access token has expired"}
            if fault == "unknown_token_soft":
                body["soft_logout"] = True
            await send(writer, 401, [], json.dumps(body).encode())
            return True
        if fault == "stall":
            self.count(fault)
            await asyncio.sleep(self.stall_seconds)
            return False
        if fault == "reset":
            self.count(fault)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Ty")
            await writer.drain()
            sock = writer.get_extra_info("socket")
            # Linger 0: close() sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        status, reply_headers, reply = await self.forward(method, target, headers, body)
        if fault == "close_mid_body":
            self.count(fault)
            head = head_bytes(status, reply_headers, len(reply))
            writer.write(head + reply[: len(reply) // 2])
            await writer.drain()
            writer.close()
            return False
        if fault == "truncated_json":
            if status != 200 or len(reply) < 2:
                # Nothing to cut: forward as it is (not counted as a fault).
                await send(writer, status, reply_headers, reply)
                return True
            self.count(fault)
            await send(writer, status, reply_headers, reply[: len(reply) // 2])
            return True
        raise ValueError(f"unknown fault {fault}")

    async def forward(self, method, target, headers, body):
        reader, writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            lines = [f"{method} {target} HTTP/1.1"]
            for name, value in headers:
                if name.lower() not in ("connection", "keep-alive", "content-length", "host", "transfer-encoding"):
                    lines.append(f"{name}: {value}")
            lines += [f"Host: {self.upstream_host}:{self.upstream_port}", "Connection: close",
                      f"Content-Length: {len(body)}"]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        head, _, rest = raw.partition(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        status = int(head_lines[0].split(" ", 2)[1])
        reply_headers = []
        chunked = False
        for line in head_lines[1:]:
            name, _, value = line.partition(":")
            value = value.strip()
            lower = name.lower()
            if lower == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif lower not in ("connection", "content-length", "keep-alive"):
                reply_headers.append((name, value))
        return status, reply_headers, dechunk(rest) if chunked else rest


def dechunk(data):
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return bytes(out)


def error_body(errcode, message):
    return json.dumps({"errcode": errcode, "error": message}).encode()


def head_bytes(status, headers, length):
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    names = {name.lower() for name, _ in headers}
    lines += [f"{name}: {value}" for name, value in headers]
    if "content-type" not in names:
        lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(writer, status, headers, body):
    writer.write(head_bytes(status, headers, len(body)) + body)
    await writer.drain()


async def read_request(reader):
    """One request (method, target, headers, body), or None when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    length = 0
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


def unblock_stop_signals():
    """Unblocks SIGTERM and SIGINT, which this process may inherit blocked.

    The test process starts the proxy from a thread that has them blocked (libdispatch blocks signals in
    its worker threads), and a blocked mask survives exec: the tests' stop signal would then never arrive.
    Inherited descriptors are deliberately left open: Foundation's Process watches one of them to learn
    that its child exited.
    """
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--counts-file", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--stall-seconds", type=float, default=4.0)
    parser.add_argument("--mixed", action="store_true")
    parser.add_argument("--min-gap", type=int, default=3)
    parser.add_argument("--fail-after", type=int, default=0)
    parser.add_argument("--fail-with", choices=FAULTS)
    parser.add_argument("--fail-path")
    args = parser.parse_args()
    if not args.mixed and not args.fail_with:
        parser.error("give --mixed or --fail-with")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"fault-proxy: seed {args.seed}, listening on 127.0.0.1:{port}, upstream {args.upstream}", flush=True)
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as out:
        out.write(f"{port}\n")
    os.replace(temporary, args.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    unblock_stop_signals()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
