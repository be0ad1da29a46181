"""The answer engine: one typed answer per command, computed from a store.

Every front end (Discord, the console, ``sitrep ask``) calls ``Engine`` and only renders the answer
differently, so a fix here fixes every front end.
"""

from bot.engine.engine import Engine

__all__ = ["Engine"]
