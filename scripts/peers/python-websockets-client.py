#!/usr/bin/python3
"""Autobahn fuzzingserver driver loop on the python3-websockets client
(Debian's 10.4, asyncio API): a user example and a peer for wsconform's
client mode.

    /usr/bin/python3 scripts/peers/python-websockets-client.py ws://HOST:PORT \
        [--agent NAME] [--cases N]

Runs GET /getCaseCount, then /runCase?case=I&agent=NAME for I = 1..N
(echoing every message with its type until the server closes), then
/updateReports?agent=NAME. Everything else (masking, pongs, the close
handshake, failing on protocol errors, validating the server's handshake
answer) is the library's job. The library's own limits are lifted
(max_size=None, no keepalive pings, no per-message timeout) so the cases
judge the protocol, not the defaults.

Exit status: 0 when the loop ran to its end (per-case connection failures
are expected: many cases make the server misbehave on purpose), 1 when the
server could not be reached for the case count, 2 on bad usage.
"""
import argparse
import asyncio
import sys
import urllib.parse

import websockets

DEFAULT_AGENT = "python-websockets/" + websockets.__version__


async def get_count(base):
    async with websockets.connect(base + "/getCaseCount", max_size=None,
                                  ping_interval=None, open_timeout=10) as ws:
        msg = await ws.recv()
        return int(msg)


async def run_case(base, i, agent):
    uri = "%s/runCase?case=%d&agent=%s" % (base, i, urllib.parse.quote(agent, safe=""))
    try:
        async with websockets.connect(uri, max_size=None, ping_interval=None,
                                      open_timeout=10, close_timeout=5,
                                      compression="deflate") as ws:
            async for msg in ws:  # str stays text, bytes stay binary
                await ws.send(msg)
    except (websockets.exceptions.WebSocketException, OSError,
            asyncio.TimeoutError) as e:
        return "%s: %s" % (type(e).__name__, e)
    return None


async def update_reports(base, agent):
    uri = "%s/updateReports?agent=%s" % (base, urllib.parse.quote(agent, safe=""))
    async with websockets.connect(uri, ping_interval=None, open_timeout=10) as ws:
        try:
            await ws.recv()
        except websockets.exceptions.ConnectionClosed:
            pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="ws://HOST:PORT of the fuzzing server")
    ap.add_argument("--agent", default=DEFAULT_AGENT)
    ap.add_argument("--cases", type=int, default=0, help="run cases 1..N (default: ask)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    base = a.url.rstrip("/")
    try:
        n = a.cases or await get_count(base)
    except (OSError, websockets.exceptions.WebSocketException, ValueError,
            asyncio.TimeoutError) as e:
        print("python-websockets-client: getCaseCount: %s" % e, file=sys.stderr)
        return 1
    print("python-websockets-client: %d cases as %s" % (n, a.agent), file=sys.stderr)
    for i in range(1, n + 1):
        why = await run_case(base, i, a.agent)
        if why and a.verbose:
            print("case %d: %s" % (i, why), file=sys.stderr)
    await update_reports(base, a.agent)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
