"""sitrep: situation updates on the war against ISIS, from a curated and sourced fact store.

``create_bot`` is importable from here; discord.py is imported only when it is used, so that the
console and ``sitrep ask`` start without paying for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.discord.app import create_bot

__all__ = ["create_bot"]


def __getattr__(name: str) -> Any:
    if name == "create_bot":
        from bot.discord.app import create_bot

        return create_bot
    raise AttributeError(name)
