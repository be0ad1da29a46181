"""Pointing discord.py at a fake server: shared by ``FakeDiscord.patch_discord`` (in-process
bots) and ``launch.py`` (bot processes), so both set exactly the same attributes.

A module of its own because ``python -m tests.fakediscord.launch`` imports the package first;
were ``launch`` imported by the package too, runpy would warn that it ran a module twice.
"""

from __future__ import annotations

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
