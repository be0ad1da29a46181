"""A throwaway PostgreSQL server on 127.0.0.1 for the tests of the PostgreSQL store.

The store's tests need a real server: the behaviours worth testing (transactions, constraint errors,
a connection that drops, wrong credentials) are the server's, and no fake reproduces them. Each test
session starts one server from the machine's PostgreSQL binaries in a fresh directory and deletes
it afterwards; tests get their own databases, cheaply, as copies of a template (``CREATE DATABASE
... TEMPLATE``). Typical use::

    async def test_reads(pg_server: PgServer) -> None:
        dsn = pg_server.create_database("t_reads", template="t_template")
        try:
            conn = await asyncpg.connect(dsn)
            ...
        finally:
            pg_server.drop_database("t_reads")

with the fixture imported into ``tests/conftest.py`` (``from pgserver import pg_server  # noqa:
F401``; ``tests/`` is on ``sys.path``, as for ``fakediscord``).

The binaries are looked for in ``$SITREP_TEST_PG_BIN`` (a directory with ``initdb`` and
``postgres``), then ``pg_config --bindir``, then ``/usr/lib/postgresql/*/bin`` (Debian keeps them
there, off PATH; newest first), then ``initdb`` on PATH. When there are none the ``pg_server``
fixture skips with one line saying how to get them, except under ``CI=true``, where a missing
server fails: CI must not pass by silently skipping the PostgreSQL half of the suite.

The server:

- listens on 127.0.0.1 only, on a free port, with no Unix socket (nothing to collide with, and no
  socket path to outgrow the 107-byte limit in a long temporary directory);
- has one role, the superuser ``sitrep``, with a random password and ``scram-sha-256`` for every
  connection, so the DSN carries a password the way a production one does and a wrong password is
  refused (``asyncpg.InvalidPasswordError``);
- is UTF-8 with the ``C.UTF-8`` locale (byte-order sorting the same on every machine, while
  ``lower()`` and ``upper()`` still know non-ASCII letters) and ``TimeZone=UTC``, so results do not
  depend on the machine's locale or time zone;
- keeps PostgreSQL's durability settings (``fsync``, ``synchronous_commit``) at their defaults, so
  it commits as a production server does. Turning them off would only matter to a machine crash
  (a killed client or server loses nothing either way), and it did not make start-up or template
  copies measurably faster. Only ``initdb --no-sync`` is used, which skips flushing the new cluster
  to disk (about a third of initdb's time), something only a machine crash, which loses the
  throwaway directory anyway, could notice.

initdb and postgres refuse to run as root. As root (this is how CI runs) the directory is given to
the ``postgres`` user (or ``nobody`` when there is none) and both run as that user, with root's
supplementary groups dropped; otherwise they run as the current user. The directory is made with
:func:`tempfile.mkdtemp` rather than under pytest's ``tmp_path``, whose parents are private to the
user running pytest and so unreachable for ``postgres``.

``postgres`` runs as a direct child of the test process (not daemonised by ``pg_ctl``), so that
stopping it is a signal and a wait, and on Linux it is told to shut down when the test process dies
(``setpriv --pdeathsig``): a test run that is killed outright still leaves no server behind, only
its directory in the temporary directory.

``python tests/pgserver.py`` prints the PostgreSQL found, exits 1 when there is none (CI installs it
then) and 2 when ``$SITREP_TEST_PG_BIN`` names a directory without it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar
from urllib.parse import quote

import asyncpg
import pytest

BIN_ENV = "SITREP_TEST_PG_BIN"
MISSING = f"PostgreSQL not found: apt-get install postgresql (or set {BIN_ENV})"
SUPERUSER = "sitrep"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
"""Seconds for the server to become ready: about one on an idle machine, far more on a loaded CI."""
STOP_TIMEOUT = 10.0
"""Seconds for an immediate shutdown before the server is killed."""
PORT_ATTEMPTS = 5
"""Tries with a new port when another process took the free one between choosing and binding."""
RUN_AS_ROOT = ("postgres", "nobody")
"""Users to run the server as when the tests run as root, in order of preference."""

T = TypeVar("T")


class PgServerError(RuntimeError):
    """The server could not be found or started; the message says why, with the server's log."""


def _is_server_bindir(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) and (path / name).is_file() for name in ("initdb", "postgres"))


def _version_key(bindir: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> (15,): the newest of several installed versions first."""
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``, or None when PostgreSQL is not installed.

    Raises PgServerError when ``$SITREP_TEST_PG_BIN`` is set to a directory without them: an
    explicit setting that is wrong should be reported, not quietly replaced by another search."""
    configured = os.environ.get(BIN_ENV)
    if configured:
        if not _is_server_bindir(Path(configured)):
            raise PgServerError(f"{BIN_ENV}={configured} has no initdb and postgres")
        return Path(configured)
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10,
                                   check=True).stdout.strip()
            if found:
                candidates.append(Path(found))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)  # a symlink on PATH: postgres is beside the target
    return next((path for path in candidates if _is_server_bindir(path)), None)


def require_bindir() -> Path:
    """:func:`find_bindir`, skipping the test when PostgreSQL is missing, failing it under ``CI=true``."""
    try:
        bindir = find_bindir()
    except PgServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    if bindir is None:
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            pytest.fail(f"{MISSING} (CI is set: the PostgreSQL tests must run, not skip)", pytrace=False)
        pytest.skip(MISSING)
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run initdb and postgres as when we are root, None to run them as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in RUN_AS_ROOT:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise PgServerError(f"running as root, and no {' or '.join(RUN_AS_ROOT)} user exists to run postgres as")


def _dies_with_parent(args: list[str]) -> list[str]:
    """``args`` run under ``setpriv --pdeathsig``, so the server shuts down (SIGQUIT: immediate) when
    the test process dies, even by SIGKILL. setpriv sets it after ``subprocess`` has switched user
    (changing credentials clears it) and execs postgres, so the child's pid is the server's. Linux
    only (setpriv is util-linux's, which Debian counts essential); elsewhere the teardown alone
    stops the server. A ``preexec_fn`` could make the same call, but is unsafe in a process with
    threads, which a test session has (aiosqlite, asyncio's executor)."""
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "QUIT", "--", *args] if setpriv else args


def _quote_ident(name: str) -> str:
    """``name`` as an SQL identifier; refuses what PostgreSQL would silently truncate (over 63 bytes),
    which could turn two test databases into one."""
    if not name or "\0" in name or len(name.encode()) > 63:
        raise ValueError(f"not a usable database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


class PgServer:
    """A running throwaway server; :meth:`start` makes one, :meth:`stop` removes every trace of it.

    The admin methods are synchronous, so that sync and async tests and fixtures can all call them:
    each opens its own connection on a private event loop in a worker thread."""

    host = HOST
    user = SUPERUSER

    def __init__(self, *, bindir: Path, root: Path, port: int, password: str, version: str,
                 process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        self.bindir = bindir
        self.root = root
        """The throwaway directory: ``data`` (the cluster) and ``server.log``."""
        self.port = port
        self.password = password
        self.version = version
        """What ``postgres --version`` says, e.g. ``postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)``."""
        self.process = process
        self._log = log

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    @classmethod
    def start(cls, bindir: Path | None = None) -> PgServer:
        """initdb a fresh cluster in a new temporary directory and start a server on it.

        Raises PgServerError (with the end of initdb's or the server's output) if either fails."""
        bindir = bindir or find_bindir()
        if bindir is None:
            raise PgServerError(MISSING)
        creds = _run_as()
        as_user: dict[str, Any] = {}
        if creds is not None:
            as_user = {"user": creds[0], "group": creds[1], "extra_groups": []}
        # PG* variables (PGDATA, PGPORT, PGHOST, ...) in the developer's shell must not steer the tools.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        version = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True,
                                 check=True, env=env).stdout.strip()
        root = Path(tempfile.mkdtemp(prefix="sitrep-pg-"))
        try:
            if creds is not None:
                os.chown(root, *creds)
            password = secrets.token_hex(16)
            pwfile = root / "password"
            pwfile.write_text(password + "\n")
            if creds is not None:
                os.chown(pwfile, *creds)
            initdb = subprocess.run(
                [str(bindir / "initdb"), "--pgdata", str(root / "data"), "--username", SUPERUSER,
                 "--pwfile", str(pwfile), "--auth", "scram-sha-256", "--encoding", "UTF8",
                 "--locale", "C.UTF-8", "--no-sync"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root, env=env,
                **as_user)
            pwfile.unlink()
            if initdb.returncode != 0:
                raise PgServerError(f"initdb failed:\n{_tail(initdb.stdout.decode(errors='replace'))}")
            log = (root / "server.log").open("ab")
            try:
                port, process = cls._launch(bindir, root, env, as_user, log)
            except BaseException:
                log.close()
                raise
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cls(bindir=bindir, root=root, port=port, password=password, version=version, process=process,
                   log=log)

    @staticmethod
    def _launch(bindir: Path, root: Path, env: dict[str, str], as_user: dict[str, Any],
                log: IO[bytes]) -> tuple[int, subprocess.Popen[bytes]]:
        """Start postgres on a free port and wait until it accepts connections; a new port when the
        chosen one was taken in between."""
        data = root / "data"
        output = ""
        for _ in range(PORT_ATTEMPTS):
            port = _free_port()
            log.write(f"--- starting on port {port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                _dies_with_parent([str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                                   "-c", f"listen_addresses={HOST}", "-c", "unix_socket_directories=",
                                   "-c", "TimeZone=UTC"]),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=root, env=env,
                start_new_session=True,  # a Ctrl-C meant for pytest must not stop the server before teardown
                **as_user)
            try:
                if _wait_ready(process, data / "postmaster.pid", time.monotonic() + START_TIMEOUT):
                    return port, process
            except BaseException:
                _shut_down(process)
                raise
            output = (root / "server.log").read_text(errors="replace")
            if "could not bind" not in output.rsplit("--- starting on port", 1)[-1]:
                raise PgServerError(f"postgres exited with status {process.returncode}:\n{_tail(output)}")
        raise PgServerError(f"postgres found no free port in {PORT_ATTEMPTS} tries:\n{_tail(output)}")

    def dsn(self, dbname: str = "postgres", *, user: str | None = None, password: str | None = None) -> str:
        """``postgresql://sitrep:PASSWORD@127.0.0.1:PORT/dbname``; ``user`` and ``password`` replace
        the superuser's, for tests of refused credentials."""
        user = self.user if user is None else user
        password = self.password if password is None else password
        return (f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/"
                f"{quote(dbname, safe='')}")

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` when given) and return its DSN.

        The template must have no open connections (PostgreSQL waits up to 5 s for them to go):
        build it, close every connection to it, then copy it once per test. Copying a small template
        takes milliseconds, far less than loading a schema and rows each time."""
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        self._admin(lambda conn: conn.execute(sql))
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, ending any connections still open to it (a test that
        failed half-way may not have closed them)."""
        ident = _quote_ident(name)

        async def drop(conn: asyncpg.Connection) -> None:
            if conn.get_server_version().major >= 13:
                await conn.execute(f"DROP DATABASE IF EXISTS {ident} WITH (FORCE)")
            else:
                await _terminate(conn, name)
                await conn.execute(f"DROP DATABASE IF EXISTS {ident}")

        self._admin(drop)

    def kill_connections(self, dbname: str) -> int:
        """End every connection to ``dbname`` (as a server restart or a network failure would, from
        the client's side) and return how many there were. On PostgreSQL 14 and later it waits, up to
        5 s, for them to be gone."""
        return self._admin(lambda conn: _terminate(conn, dbname))

    def databases(self) -> list[str]:
        """The names of the databases other than the templates and ``postgres``."""
        rows = self._admin(lambda conn: conn.fetch(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1"))
        return [row["datname"] for row in rows]

    def _admin(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def run() -> T:
            conn = await asyncpg.connect(self.dsn("postgres"), timeout=30)
            try:
                return await work(conn)
            finally:
                await conn.close()

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(lambda: asyncio.run(run())).result()

    def stop(self) -> None:
        """Shut the server down at once (nothing in it is worth a checkpoint) and delete its directory.
        Safe to call twice."""
        _shut_down(self.process)
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


async def _terminate(conn: asyncpg.Connection, dbname: str) -> int:
    """End the connections to ``dbname``. The pids are read first and ended one by one: in a single
    ``WHERE datname = ... AND pg_terminate_backend(pid)`` the planner may call the function before the
    other conditions, ending every connection, this one included."""
    pids = [row["pid"] for row in await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", dbname)]
    wait = ", 5000" if conn.get_server_version().major >= 14 else ""
    for pid in pids:
        await conn.execute(f"SELECT pg_terminate_backend($1{wait})", pid)
    return len(pids)


def _wait_ready(process: subprocess.Popen[bytes], pidfile: Path, deadline: float) -> bool:
    """True once the server accepts connections, False if it exited first.

    Ready is what ``pg_ctl -w`` waits for: ``postmaster.pid``'s eighth line saying ``ready``."""
    while process.poll() is None:
        with contextlib.suppress(FileNotFoundError):
            lines = pidfile.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return True
        if time.monotonic() > deadline:
            raise PgServerError(f"postgres was not ready after {START_TIMEOUT:.0f} s")
        time.sleep(0.01)
    return False


def _shut_down(process: subprocess.Popen[bytes]) -> None:
    """Immediate shutdown (SIGQUIT: the server ends its backends and exits), then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGQUIT)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's server: started on first use, stopped at the end of the session whatever the
    tests did. Skips when PostgreSQL is missing, fails instead under ``CI=true``."""
    server = PgServer.start(require_bindir())
    try:
        yield server
    finally:
        server.stop()


def main() -> int:
    try:
        bindir = find_bindir()
    except PgServerError as exc:
        print(exc, file=sys.stderr)
        return 2
    if bindir is None:
        print(MISSING, file=sys.stderr)
        return 1
    version = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    print(f"{version} in {bindir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
