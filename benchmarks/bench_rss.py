"""Memory of a serving process, measured in a fresh interpreter so no other benchmark pollutes it.

    python -m benchmarks.bench_rss STORE.db QUERIES.json

Opens ``Engine`` on the store (which builds the resolver over every name), serves the queries in
the JSON file (``exact``, ``typos``, ``hot``, ``words``: lists of strings), and prints one JSON
object with VmRSS after the imports, after opening, after serving, and VmHWM (the peak, which
includes the transient cost of building the resolver). VmRSS is what the container's memory limit
counts, so that is the figure compared with the 100 MB budget. The Discord front end (``bot.discord.app``,
discord.py) is imported too, as the serving bot does.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from pathlib import Path

from benchmarks.common import read_status_kb


def _mib(kb: int) -> float:
    return round(kb / 1024, 1)


async def serve(db: Path, plan: dict[str, list[str]]) -> dict[str, float]:
    """Open, serve and sample the process's memory at each step (in MiB)."""
    from bot.runtime import open_at  # imported here so the baseline below includes it

    out = {"rss_imports": _mib(read_status_kb("VmRSS"))}
    engine_rt = await open_at(db)
    engine = engine_rt.engine
    gc.collect()
    out["rss_open"] = _mib(read_status_kb("VmRSS"))
    try:
        for name in plan["exact"]:
            await engine.status(name)
            await engine.timeline(name)
        for name in plan["typos"]:
            await engine.status(name)
        for name in plan["hot"]:
            await engine.status(name)
            await engine.timeline(name)
        for word in plan["words"]:
            await engine.search(word)
    finally:
        await engine_rt.close()
    gc.collect()
    out["rss_served"] = _mib(read_status_kb("VmRSS"))
    out["hwm"] = _mib(read_status_kb("VmHWM"))
    return out


def main(argv: list[str]) -> int:
    # Charge the imports before the first sample, including the Discord front end (bot.discord.app and
    # discord.py), because the bot process that must fit in 100 MB carries them.
    import bot.discord.app  # noqa: F401 - imports bot.engine.engine too

    db, plan_file = Path(argv[0]), Path(argv[1])
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    result = asyncio.run(serve(db, plan))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
