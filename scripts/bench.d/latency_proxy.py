#!/usr/bin/env python3
"""A TCP proxy that adds network latency, for benchmarks that ask how a client behaves against a homeserver
that is not on the same machine.

    latency_proxy.py --upstream-port PORT --rtt-ms MS --port-file FILE

Every connection to 127.0.0.1:<chosen port> is forwarded to 127.0.0.1:PORT. Each direction delays every chunk
by half the round-trip time before passing it on, without holding up the chunks behind it (a link's latency,
not a bandwidth cap), and a new connection waits one round trip before it is opened upstream (TCP's handshake).
Bytes are passed unchanged, so keep-alive and HTTP framing are the client's and the server's own.
"""

import argparse
import asyncio
import os
import signal
import sys


async def pipe(reader, writer, one_way_seconds):
    """Copies reader to writer, each chunk delivered one_way_seconds after it was read."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    delivering = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((loop.time() + one_way_seconds, data))
    except ConnectionError:
        pass
    finally:
        queue.put_nowait((loop.time() + one_way_seconds, None))
        try:
            await delivering
        except ConnectionError:
            pass


def handler(upstream_port, rtt_seconds):
    async def handle(client_reader, client_writer):
        await asyncio.sleep(rtt_seconds)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer, rtt_seconds / 2),
                             pipe(upstream_reader, client_writer, rtt_seconds / 2),
                             return_exceptions=True)
    return handle


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--rtt-ms", type=float, required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = await asyncio.start_server(handler(args.upstream_port, args.rtt_ms / 1000), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as out:
        out.write(f"{port}\n")
    os.replace(temporary, args.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, SystemExit):
        pass
