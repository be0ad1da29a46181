"""Serve a fake Discord alone, for bot processes started by hand or by a benchmark:

    python -m tests.fakediscord --guilds 1000 --shards 4 [--port 8765] [--token T]

prints one JSON line (the URLs, and the ``launch`` argv prefix for a bot process tagged
``bot``) and serves on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence

from .server import FakeDiscord


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakediscord", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--guilds", type=int, default=1)
    parser.add_argument("--shards", type=int, default=1, help="the recommended shard count")
    parser.add_argument("--max-concurrency", type=int, default=1)
    parser.add_argument("--max-guilds-per-shard", type=int, default=None)
    parser.add_argument("--token", action="append", help="accept only this token (repeatable)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the server, print where it is, and wait for SIGINT/SIGTERM."""
    server = FakeDiscord(
        guilds=args.guilds,
        valid_tokens=args.token,
        shard_count=args.shards,
        max_concurrency=args.max_concurrency,
        max_guilds_per_shard=args.max_guilds_per_shard,
        interaction_deadline=None,
    )
    await server.start(args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        info = {
            "api_base": server.api_base,
            "gateway": server.gateway_url,
            "launch": server.launch_command(),
            "guilds": len(server.world.guilds),
            "shards": args.shards,
        }
        print(json.dumps(info), flush=True)
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(serve(parse_args(sys.argv[1:] if argv is None else argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
