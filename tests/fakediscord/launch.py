"""Run sitrep's command line in this process, pointed at a fake Discord server elsewhere.

    python -m tests.fakediscord.launch --api-base URL --gateway URL -- run

(from the project root) sets the same two discord.py class attributes as
``FakeDiscord.patch_discord`` and then runs ``bot.__main__.main`` with the arguments after
``--``. The bot reads its token from ``SITREP_DISCORD_TOKEN`` as usual. Tests build the whole
command with ``FakeDiscord.launch_command``, whose URLs carry a client tag so that the fake can
tell which process sent each request (see ``gateway.client_tag``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The directory holding ``bot/`` and ``tests/``: what a launched process needs on its path."""


def point_discord(api_base: str, gateway_url: str) -> tuple[str, object]:
    """Point discord.py at a server: ``discord.http.Route.BASE`` (REST) and
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (websocket). Returns the old values.

    Both are class attributes, so this affects every client in the process.
    """
    import discord.gateway
    import discord.http
    import yarl

    old = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return old


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The launcher's own options, and the sitrep arguments after ``--``."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakediscord.launch",
        description="Run the sitrep CLI against a fake Discord server.",
    )
    parser.add_argument("--api-base", required=True, help="REST base, e.g. http://127.0.0.1:PORT/api/v10")
    parser.add_argument("--gateway", required=True, help="gateway URL, e.g. ws://127.0.0.1:PORT/gateway")
    return parser.parse_args(argv[:split]), argv[split + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    """Patch discord.py, then hand over to sitrep's ``main``."""
    args, sitrep_args = parse_args(sys.argv[1:] if argv is None else argv)
    point_discord(args.api_base, args.gateway)
    from bot.__main__ import main as sitrep_main

    return sitrep_main(sitrep_args)


if __name__ == "__main__":
    sys.exit(main())
