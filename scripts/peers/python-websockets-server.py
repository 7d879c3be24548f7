#!/usr/bin/python3
"""Echo server on the python3-websockets library (Debian's 10.4, asyncio API).

    /usr/bin/python3 scripts/peers/python-websockets-server.py --port P [--host H]

Echoes every message back unchanged. permessage-deflate is left as the
library sets it up by default (offered extensions are accepted). Prints the
bound port on stdout once listening (--port 0 picks a free one) and exits
cleanly (status 0) on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import signal
import sys

import websockets


async def echo(ws, path=None):  # 10.4 passes (ws, path); newer versions pass (ws)
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.exceptions.ConnectionClosed:
        pass


async def main(host, port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # max_size=None: no message limit, like the other echo peers (wsconform
    # sends messages of several MiB in its limit-free cases).
    async with websockets.serve(echo, host, port, max_size=None) as server:
        bound = server.sockets[0].getsockname()[1]
        print(bound, flush=True)
        await stop


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    asyncio.run(main(args.host, args.port))
    sys.exit(0)
