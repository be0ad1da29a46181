"""Shared fixtures: stores built into temporary directories from the shipped seeds and either the
shipped curation (``data/``) or the small fixture set in ``tests/fixtures/data``; and a bot
connected to the fake Discord server (``server``, which a module may override)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, fake_discord, running_bot

from bot.config import Settings, load_settings
from bot.discord.app import SitrepBot, create_bot
from bot.engine import Engine
from bot.runtime import open_at, open_runtime
from bot.store.stores import build_store

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


@contextlib.asynccontextmanager
async def _engine(db: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    copy = tmp_path / "engine.db"
    shutil.copy(db, copy)
    rt = await open_at(copy, today=lambda: TODAY)
    try:
        yield rt.engine
    finally:
        await rt.close()


@pytest.fixture
async def engine(fixture_store: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    async with _engine(fixture_store, tmp_path) as eng:
        yield eng


@pytest.fixture
async def shipped(shipped_store: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    async with _engine(shipped_store, tmp_path) as eng:
        yield eng


# ---------------------------------------------------------------------------- Discord end to end
# For the tests that drive the real discord.py client: each such module defines its own ``server``
# fixture (a fakediscord.FakeDiscord), which ``bot`` connects to.
TOKEN = "MTIzNDU2.fake-SECRET-token-value"


def settings_for(db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"discord_token": TOKEN, "database": db, "user_rate": 1000,
                              "same_answer_seconds": 0, **overrides}
    return load_settings(**values)


@pytest.fixture
async def store(shipped_store: Path, tmp_path: Path) -> Path:
    db = tmp_path / "bot.db"
    shutil.copy(shipped_store, db)
    return db


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as srv:
        yield srv
        assert srv.unknown_routes == []
        assert srv.errors == []


async def start(server: FakeDiscord, store: Path, **overrides: Any) -> SitrepBot:
    settings = settings_for(store, **overrides)
    runtime = await open_runtime(settings, today=lambda: TODAY, build=False)
    return create_bot(settings, runtime)


@pytest.fixture
async def bot(server: FakeDiscord, store: Path) -> AsyncIterator[SitrepBot]:
    b = await start(server, store)
    try:
        async with running_bot(server, b, TOKEN) as running:
            yield running
    finally:
        await b.runtime.close()


