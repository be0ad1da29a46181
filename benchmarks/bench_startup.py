"""Start-up: a fresh ``sitrep ask '!status Mosul'`` process, and the import of the engine.

Both run as subprocesses of the venv's interpreter, as a user or the container would start them,
so the figures include interpreter start, imports, opening the store (an up-to-date store costs
one digest check, no build) and building the resolver over the store's names.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import ROOT

VENV_BIN = ROOT / ".venv" / "bin"


def _time_run(cmd: Sequence[str], env: dict[str, str], runs: int) -> tuple[list[float], str]:
    """Wall times in seconds of ``runs`` runs after one untimed run (page cache, .pyc files);
    raises if the command fails, because a failing command's time is meaningless."""
    def once() -> tuple[float, str]:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        took = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
        return took, proc.stdout

    _, out = once()
    return [once()[0] for _ in range(runs)], out


def sitrep_ask(db: Path, data_dir: Path, seeds_dir: Path, runs: int = 5) -> tuple[float, str]:
    """Median seconds of ``sitrep ask '!status Mosul'`` on an already-built store, and the first
    line of its answer (to show it answered, not failed fast)."""
    env = {**os.environ, "SITREP_DATABASE": str(db), "SITREP_DATA_DIR": str(data_dir),
           "SITREP_SEEDS_DIR": str(seeds_dir), "SITREP_LOG_LEVEL": "WARNING"}
    env.pop("SITREP_DISCORD_TOKEN", None)
    times, out = _time_run([str(VENV_BIN / "sitrep"), "ask", "!status Mosul"], env, runs)
    first = next((line for line in out.splitlines() if line.strip()), "")
    return statistics.median(times), first


def import_time(module: str = "bot.engine.engine", runs: int = 5) -> tuple[float, float, list[str]]:
    """Median seconds of ``python -c 'import <module>'`` and of ``python -c pass`` (the
    interpreter alone), and the heaviest top-level packages by cumulative import time
    (``-X importtime``), to show where the time goes."""
    python = str(VENV_BIN / "python")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with_import, _ = _time_run([python, "-c", f"import {module}"], env, runs)
    bare, _ = _time_run([python, "-c", "pass"], env, runs)
    proc = subprocess.run([python, "-X", "importtime", "-c", f"import {module}"], env=env,
                          capture_output=True, text=True, check=True)
    best: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and "." not in m[3] and not m[3].startswith("_"):
            best[m[3]] = max(best.get(m[3], 0), int(m[1]))
    top = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:6]
    return (statistics.median(with_import), statistics.median(bare),
            [f"{name} {us / 1000:.0f} ms" for name, us in top])
