#!/usr/bin/env python3
"""link.py: a TCP relay on loopback that delivers like a network link.

  link.py --port-file F --to HOST:PORT --rtt MS --mbit N [--lifetime S]

Listens on 127.0.0.1 (a free port, written to F once it listens).  Each
connection it accepts is joined to a new connection to HOST:PORT, and the
bytes each way arrive as over a link of N Mbit/s each way and MS ms of
round trip: a chunk is sent once the link has carried the ones before it
(at N Mbit/s), and arrives MS/2 ms after it was sent.  A direction holds
at most WINDOW bytes in flight (then it stops reading, as TCP would), so
the sending side sees back-pressure, not an endless buffer.  It does not
look at the bytes (TLS passes through).  It exits on SIGTERM or after
--lifetime seconds (default 600).
"""
import argparse
import os
import asyncio
import signal
import sys

CHUNK = 16384
WINDOW = 4 << 20


class Way:
    """One direction of one connection: its link's clock and its queue."""

    def __init__(self, bps, delay):
        self.bps = bps
        self.delay = delay
        self.free = 0.0         # when the link has sent what it was given
        self.inflight = 0
        self.room = asyncio.Event()
        self.room.set()
        self.q = asyncio.Queue()


async def carry(src, dst, way):
    loop = asyncio.get_running_loop()

    async def deliver():
        while True:
            item = await way.q.get()
            if item is None:
                break
            at, data = item
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                dst.write(data)
                await dst.drain()
            except (ConnectionError, OSError):
                break
            way.inflight -= len(data)
            if way.inflight < WINDOW:
                way.room.set()
        try:
            if dst.can_write_eof():
                dst.write_eof()
        except (ConnectionError, OSError):
            pass

    out = asyncio.ensure_future(deliver())
    try:
        while True:
            await way.room.wait()
            try:
                data = await src.read(CHUNK)
            except (ConnectionError, OSError):
                break
            if not data:
                break
            start = max(loop.time(), way.free)
            way.free = start + len(data) * 8 / way.bps
            way.inflight += len(data)
            if way.inflight >= WINDOW:
                way.room.clear()
            way.q.put_nowait((way.free + way.delay, data))
    finally:
        way.q.put_nowait(None)
        await out


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--rtt", type=float, required=True)
    ap.add_argument("--mbit", type=float, required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    host, _, port = a.to.rpartition(":")
    if a.rtt < 0 or a.mbit <= 0 or not port.isdigit():
        sys.exit("link.py: bad --to, --rtt or --mbit")
    bps = a.mbit * 1e6
    delay = a.rtt / 2000.0

    async def on_conn(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection(host, int(port))
        except OSError as e:
            print("link.py: cannot reach %s: %s" % (a.to, e), file=sys.stderr)
            cwriter.close()
            return
        await asyncio.gather(carry(creader, swriter, Way(bps, delay)),
                             carry(sreader, cwriter, Way(bps, delay)))
        for w in (cwriter, swriter):
            w.close()

    srv = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.sockets[0].getsockname()[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), a.lifetime)
    except asyncio.TimeoutError:
        pass
    srv.close()


if __name__ == "__main__":
    asyncio.run(main())
