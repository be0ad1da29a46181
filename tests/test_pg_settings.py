"""Pointing sitrep at a PostgreSQL store: it answers from the server and writes no SQLite file;
a URL of an unknown kind, a server that refuses the connection or wrong credentials give one line
that names the setting and the cause, never the password; the bot retries an unreachable store
with backoff."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import PgServer

from bot.__main__ import main
from bot.config import load_settings
from bot.discord.app import run_bot
from tests.conftest import FIXTURE_DATA, TOKEN

SECRET = "hunter2-not-the-password"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An SQLite path that must stay unwritten, and the fixture data for builds."""
    sqlite_file = tmp_path / "var" / "never.db"
    monkeypatch.setenv("SITREP_DATABASE", str(sqlite_file))
    monkeypatch.setenv("SITREP_DATA_DIR", str(FIXTURE_DATA))
    for name in ("SITREP_DISCORD_TOKEN", "SITREP_DATABASE_URL", "SITREP_DATABASE_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    return sqlite_file


@pytest.fixture
def empty_db(pg_server: PgServer) -> Iterator[str]:
    """A new, empty PostgreSQL database: sitrep builds the store into it on first use."""
    url = pg_server.create_database("settings_test")
    try:
        yield url
    finally:
        pg_server.drop_database("settings_test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_url_builds_answers_from_postgres_and_writes_no_sqlite_file(
        env: Path, empty_db: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITREP_DATABASE_URL", empty_db)
    assert main(["ask", "!status Mosul"]) == 0
    assert capsys.readouterr().out.startswith("Mosul · Iraq, Nineveh")
    assert not env.exists() and not env.parent.exists()


def test_the_password_can_come_from_a_file(env: Path, empty_db: str, pg_server: PgServer,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "pg-password"
    secret.write_text(pg_server.password + "\n", encoding="utf-8")
    monkeypatch.setenv("SITREP_DATABASE_URL", empty_db.replace(f":{pg_server.password}@", "@"))
    monkeypatch.setenv("SITREP_DATABASE_PASSWORD_FILE", str(secret))
    assert main(["ask", "!status Ramadi"]) == 0
    assert "Ramadi" in capsys.readouterr().out
    settings = load_settings()
    assert pg_server.password not in repr(settings) and pg_server.password not in str(settings.store)


@pytest.mark.parametrize(("url", "cause", "status"), [
    ("mysql://root:{secret}@127.0.0.1/sitrep", "unknown kind of store 'mysql'", 2),
    ("postgresql://sitrep:{secret}@127.0.0.1:{port}/sitrep", "refused the connection", 1),
    ("{wrong_password}", "the password was refused", 1),
    ("{no_database}", "the database does not exist", 1),
])
def test_bad_urls_and_credentials_give_one_line_without_the_password(
        env: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str],
        url: str, cause: str, status: int) -> None:
    url = url.format(secret=SECRET, port=_free_port(),
                     wrong_password=pg_server.dsn("postgres", password=SECRET),
                     no_database=pg_server.dsn("no_such_db"))
    assert main(["--database", url, "ask", "!status Mosul"]) == status
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "SITREP_DATABASE_URL" in lines[0] and cause in lines[0]
    assert SECRET not in captured.err + captured.out
    assert pg_server.password not in captured.err + captured.out
    assert not env.exists()


async def test_the_bot_retries_an_unreachable_store_and_stops_on_sigterm(
        env: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(discord_token=TOKEN,
                             database_url=f"postgresql://sitrep:{SECRET}@127.0.0.1:"
                                          f"{_free_port()}/sitrep")
    caplog.set_level(logging.WARNING)
    task = asyncio.create_task(run_bot(settings))
    for _ in range(100):
        if "retrying in" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "refused the connection" in caplog.text and "retrying in" in caplog.text
    assert not task.done()  # still trying, not ended
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=5) == 0
    assert SECRET not in caplog.text
