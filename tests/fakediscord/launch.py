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

from .patching import point_discord


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
