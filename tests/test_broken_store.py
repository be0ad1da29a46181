"""A store that is not a database, was cut short (a failed copy, a full disk), or comes from a newer
sitrep: every command that opens it exits non-zero within seconds with one short line naming the
file and what to do, and never a traceback or a hang (an open SQLite connection's thread once kept
such a process alive for ever: in a container, a bot that neither answers nor restarts). Restore is
the way out, so it must work into each of them."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

KINDS = ("not_a_database", "cut_short", "newer")
COMMANDS: dict[str, list[str]] = {
    "ask": ["ask", "!status Mosul"],
    "ask --json": ["ask", "!status Mosul", "--json"],
    "console": ["console"],
    "run": ["run"],
    "bot": ["bot"],
    "health": ["health"],
    "build": ["build"],
    "backup": ["backup", "{tmp}/backup.db"],
    "export": ["export", "--guild", "5"],
    "import": ["import", "{tmp}/doc.json", "--guild", "5"],
}
WORDS = {"not_a_database": "not a sitrep store", "cut_short": "damaged", "newer": "newer than"}


def _broken(kind: str, good: Path, target: Path) -> Path:
    if kind == "not_a_database":
        target.write_bytes(b"this is not a database at all\n" * 200)
    elif kind == "cut_short":
        data = good.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    else:
        shutil.copy(good, target)
        with sqlite3.connect(target) as conn:
            conn.execute("PRAGMA user_version = 99")
    return target


def _sitrep(args: list[str], db: Path, tmp: Path, *, token: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITREP_")}
    env.update({"SITREP_DATABASE": str(db), "PYTHONPATH": str(ROOT)})
    if token:
        env["SITREP_DISCORD_TOKEN"] = "MTIz.not-a-real-token"
    return subprocess.run([sys.executable, "-m", "bot", *[a.format(tmp=tmp) for a in args]],
                          input="!status Mosul\n", capture_output=True, text=True, timeout=10,
                          cwd=tmp, env=env)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_on_a_broken_store_exits_with_one_line(
        kind: str, command: str, shipped_store: Path, tmp_path: Path) -> None:
    db = _broken(kind, shipped_store, tmp_path / "sitrep.db")
    before = db.read_bytes()
    (tmp_path / "doc.json").write_text(json.dumps({"format": "sitrep-export"}))
    proc = _sitrep(COMMANDS[command], db, tmp_path, token=command == "bot")  # timeout: 10 s
    output = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode != 0, output
    assert 1 <= len(output) <= 3, output
    assert "Traceback" not in proc.stderr
    assert str(db) in output[-1] and WORDS[kind] in output[-1], output
    assert "not-a-real-token" not in proc.stdout + proc.stderr
    # nothing was "repaired" or upgraded behind the user's back
    if kind == "newer":
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (99,)
    else:
        assert db.read_bytes() == before


@pytest.mark.parametrize("kind", KINDS)
def test_restore_puts_a_broken_store_right(kind: str, shipped_store: Path,
                                           tmp_path: Path) -> None:
    db = _broken(kind, shipped_store, tmp_path / "sitrep.db")
    restored = _sitrep(["restore", str(shipped_store)], db, tmp_path, token=False)
    assert restored.returncode == 0, restored.stderr
    assert _sitrep(["health"], db, tmp_path, token=False).stdout.strip() == "healthy"
    answer = _sitrep(["ask", "!status Mosul", "--json"], db, tmp_path, token=False)
    assert json.loads(answer.stdout)["place"]["id"] == "mosul"
