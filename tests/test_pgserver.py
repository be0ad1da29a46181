"""The throwaway PostgreSQL server the store's tests run against (``tests/pgserver.py``): it answers,
only on loopback and only with the right password; template copies carry the template's rows;
dropping a database ends the connections a failed test left open; and neither stopping it nor
killing the test run leaves a process or a directory behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pgserver
import pytest
from pgserver import PgServer

TESTS = Path(__file__).resolve().parent


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie does not (in a container, PID 1 may never reap the orphan)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: no procps needed), empty off Linux."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


async def test_it_answers_on_loopback_only_as_a_superuser(pg_server: PgServer) -> None:
    conn = await asyncpg.connect(pg_server.dsn())
    try:
        assert await conn.fetchval("SELECT 6 * 7") == 42
        settings = await conn.fetchrow(
            "SELECT current_setting('listen_addresses') AS listen,"
            " current_setting('unix_socket_directories') AS sockets, current_user AS who,"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,"
            " current_setting('TimeZone') AS tz, lower('ÇA') AS lowered")
        assert dict(settings) == {"listen": "127.0.0.1", "sockets": "", "who": "sitrep", "super": True,
                                  "tz": "UTC", "lowered": "ça"}
    finally:
        await conn.close()


async def test_a_copy_of_a_template_has_its_table_and_rows_and_is_its_own(pg_server: PgServer) -> None:
    template = pg_server.create_database("t_template")
    try:
        conn = await asyncpg.connect(template)
        try:
            await conn.execute("CREATE TABLE places (id text PRIMARY KEY, name text NOT NULL)")
            await conn.executemany("INSERT INTO places VALUES ($1, $2)",
                                   [("mosul", "Mosul"), ("raqqa", "Raqqa")])
        finally:
            await conn.close()
        copy = await asyncpg.connect(pg_server.create_database("t_copy", template="t_template"))
        try:
            rows = await copy.fetch("SELECT id, name FROM places ORDER BY id")
            assert [tuple(row) for row in rows] == [("mosul", "Mosul"), ("raqqa", "Raqqa")]
            await copy.execute("DELETE FROM places")
        finally:
            await copy.close()
        conn = await asyncpg.connect(template)
        try:
            assert await conn.fetchval("SELECT count(*) FROM places") == 2
        finally:
            await conn.close()
    finally:
        pg_server.drop_database("t_copy")
        pg_server.drop_database("t_template")
    assert "t_copy" not in pg_server.databases() and "t_template" not in pg_server.databases()


async def test_a_wrong_password_is_refused(pg_server: PgServer) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(pg_server.dsn(password="not-the-password"))
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(pg_server.dsn(user="nobody_here"))


async def test_connections_can_be_ended_and_a_drop_ends_them(pg_server: PgServer) -> None:
    dsn = pg_server.create_database("t_connections")
    try:
        first = await asyncpg.connect(dsn)
        assert pg_server.kill_connections("t_connections") == 1
        with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError, ConnectionError)):
            await first.fetchval("SELECT 1")
        await first.close()
        left_open = await asyncpg.connect(dsn)  # as a test that failed half-way would leave it
        pg_server.drop_database("t_connections")
        assert "t_connections" not in pg_server.databases()
        await left_open.close()
    finally:
        pg_server.drop_database("t_connections")


def test_a_name_postgres_would_truncate_is_refused(pg_server: PgServer) -> None:
    with pytest.raises(ValueError, match="not a usable database name"):
        pg_server.create_database("t_" + "x" * 62)


def test_stopping_leaves_no_process_no_directory_and_a_closed_port() -> None:
    server = PgServer.start(pgserver.require_bindir())
    pid, root, port = server.process.pid, server.root, server.port
    assert (root / "data" / "PG_VERSION").exists()
    backends = _children(pid)  # checkpointer, background writer, ...
    assert backends or not sys.platform.startswith("linux")
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    assert not _alive(pid) and not root.exists()
    assert [child for child in backends if _alive(child)] == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    server.stop()  # twice is harmless


def test_a_port_taken_before_the_server_binds_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = pgserver.require_bindir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1]]
        real_free_port = pgserver._free_port
        monkeypatch.setattr(pgserver, "_free_port", lambda: ports.pop() if ports else real_free_port())
        with PgServer.start(bindir) as server:
            assert server.port != taken.getsockname()[1]
            assert "could not bind" in server.log_path.read_text()
            assert server.databases() == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="setpriv --pdeathsig is Linux's")
def test_a_killed_test_run_leaves_no_server_running() -> None:
    bindir = pgserver.require_bindir()
    script = ("import sys, time; from pgserver import PgServer; s = PgServer.start(); "
              "print(s.process.pid, s.root, flush=True); time.sleep(120)")
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, pgserver.BIN_ENV: str(bindir)}
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert run.stdout is not None
        started = run.stdout.readline().split()
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    assert len(started) == 2, "the server did not start"
    pid, root = int(started[0]), Path(started[1])
    try:
        assert _gone_within(pid, 10), "the server outlived the process that started it"
    finally:
        if _alive(pid):  # the failure above: do not leave it running too
            os.kill(pid, signal.SIGQUIT)
            _gone_within(pid, 10)
        shutil.rmtree(root, ignore_errors=True)  # nothing else removes it when the run is killed


def test_missing_postgresql_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgserver, "find_bindir", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        pgserver.require_bindir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL not found"):
        pgserver.require_bindir()


def test_a_wrong_bin_setting_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pgserver.BIN_ENV, str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.fail.Exception, match="has no initdb"):
        pgserver.require_bindir()
