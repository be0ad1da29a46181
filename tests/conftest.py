"""Shared fixtures: stores built from the shipped seeds and either the shipped curation (``data/``)
or the small fixture set in ``tests/fixtures/data``; and a bot connected to the fake Discord server
(``server``, which a module may override).

``engine``, ``shipped``, ``store`` and ``bot`` run each test on both engines: an SQLite file copied
into the test's directory, and a PostgreSQL database copied from a template on the throwaway
server of ``tests/pgserver.py`` (skipped with one line when PostgreSQL is not installed, a failure
under ``CI=true``). ``fixture_store`` and ``shipped_store`` are the SQLite files, for the tests of
what only SQLite has (its files, backups, pragmas)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, fake_discord, running_bot
from pgserver import PgServer, pg_server  # noqa: F401 - the fixture, for every test module

from bot.config import Settings, StoreLocation, load_settings
from bot.discord.app import SitrepBot, create_bot
from bot.engine import Engine
from bot.runtime import Runtime, open_at, open_runtime
from bot.store import contents
from bot.store.sqlstore import SqlStore
from bot.store.stores import build_store, open_store

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = ROOT / "data"
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
TODAY = date(2026, 11, 22)
"""The engine's clock in tests, so that "N years old" notes are deterministic."""


@pytest.fixture
def fixture_data(tmp_path: Path) -> Path:
    """A writable copy of the fixture data set, without a gazetteer (fast to build)."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, target)
    return target


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fixture-store") / "sitrep.db"
    asyncio.run(build_store(db, SEEDS, FIXTURE_DATA))
    return db


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("shipped-store") / "sitrep.db"
    asyncio.run(build_store(db, SEEDS, DATA))
    return db


ENGINES = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a test of what only SQLite has (its file, "
                            "its pragmas); not run on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL half of tests marked ``sqlite_only``."""
    dropped = [item for item in items if item.get_closest_marker("sqlite_only")
               and "postgresql" in getattr(getattr(item, "callspec", None), "params", {}).values()]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
StoreAt = Path | str
"""Where a test's store is: an SQLite file, or a PostgreSQL URL."""
_names = itertools.count()


def _template(server: PgServer, name: str, data: Path) -> str:
    """A PostgreSQL database built once per session, for per-test copies."""
    url = server.create_database(name)
    asyncio.run(build_store(load_settings(database_url=url).store, SEEDS, data))
    return name


@pytest.fixture(scope="session")
def pg_fixture_template(request: pytest.FixtureRequest) -> str:
    return _template(request.getfixturevalue("pg_server"), "tpl_fixture", FIXTURE_DATA)


@pytest.fixture(scope="session")
def pg_shipped_template(request: pytest.FixtureRequest) -> str:
    return _template(request.getfixturevalue("pg_server"), "tpl_shipped", DATA)


def store_copy(request: pytest.FixtureRequest, kind: str, data: str,
               tmp_path: Path) -> Iterator[StoreAt]:
    """A store of the test's own on the engine ``kind``, from the ``data`` set ("fixture" or
    "shipped"), dropped after the test."""
    if kind == "sqlite":
        copy = tmp_path / f"{data}-{next(_names)}.db"
        shutil.copy(request.getfixturevalue(f"{data}_store"), copy)
        yield copy
        return
    server: PgServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue(f"pg_{data}_template")
    name = f"t{next(_names)}_{data}"
    url = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture(params=ENGINES)
def fixture_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAt]:
    yield from store_copy(request, request.param, "fixture", tmp_path)


@pytest.fixture(params=ENGINES)
def shipped_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAt]:
    yield from store_copy(request, request.param, "shipped", tmp_path)


def location(where: StoreAt) -> StoreLocation:
    return load_settings(database_url=where).store if isinstance(where, str) else \
        StoreLocation.sqlite(where)


async def store_summary(where: StoreAt | SqlStore) -> dict[str, tuple[int, str]]:
    """Every table's row count and digest (``bot.store.contents``), on either engine: equal
    summaries mean an unchanged store."""
    if isinstance(where, SqlStore):
        return await contents.summary(where.db)
    store = await open_store(location(where))
    try:
        return await contents.summary(store.db)
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def runtime_at(where: StoreAt) -> AsyncIterator[Runtime]:
    """An open runtime on the store, closed on exit: its own connections and writer, so beside a
    bot on the same store it is another process's."""
    rt = await open_at(where, today=lambda: TODAY)
    try:
        yield rt
    finally:
        await rt.close()


@contextlib.asynccontextmanager
async def _engine(where: StoreAt) -> AsyncIterator[Engine]:
    async with runtime_at(where) as rt:
        yield rt.engine


@pytest.fixture
async def engine(fixture_copy: StoreAt) -> AsyncIterator[Engine]:
    async with _engine(fixture_copy) as eng:
        yield eng


@pytest.fixture
async def shipped(shipped_copy: StoreAt) -> AsyncIterator[Engine]:
    async with _engine(shipped_copy) as eng:
        yield eng


# ---------------------------------------------------------------------------- Discord end to end
# For the tests that drive the real discord.py client: each such module defines its own ``server``
# fixture (a fakediscord.FakeDiscord), which ``bot`` connects to.
TOKEN = "MTIzNDU2.fake-SECRET-token-value"


def settings_for(db: StoreAt, **overrides: Any) -> Settings:
    where = {"database_url": db} if isinstance(db, str) else {"database": db}
    values: dict[str, Any] = {"discord_token": TOKEN, **where, "user_rate": 1000,
                              "same_answer_seconds": 0, **overrides}
    return load_settings(**values)


@pytest.fixture
async def store(shipped_copy: StoreAt) -> StoreAt:
    """The bot's store: the shipped data, on each engine."""
    return shipped_copy


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as srv:
        yield srv
        assert srv.unknown_routes == []
        assert srv.errors == []


async def start(server: FakeDiscord, store: StoreAt, **overrides: Any) -> SitrepBot:
    settings = settings_for(store, **overrides)
    runtime = await open_runtime(settings, today=lambda: TODAY, build=False)
    return create_bot(settings, runtime)


@pytest.fixture
async def bot(server: FakeDiscord, store: StoreAt) -> AsyncIterator[SitrepBot]:
    b = await start(server, store)
    try:
        async with running_bot(server, b, TOKEN) as running:
            yield running
    finally:
        await b.runtime.close()


