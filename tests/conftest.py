"""Shared fixtures: stores built into temporary directories from the shipped seeds and either the
shipped curation (``data/``) or the small fixture set in ``tests/fixtures/data``."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.answers import Engine
from bot.store.build import build_store

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


async def _engine(db: Path, tmp_path: Path) -> Engine:
    copy = tmp_path / "engine.db"
    shutil.copy(db, copy)
    return await Engine.open(copy, today=lambda: TODAY)


@pytest.fixture
async def engine(fixture_store: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    eng = await _engine(fixture_store, tmp_path)
    yield eng
    await eng.close()


@pytest.fixture
async def shipped(shipped_store: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    eng = await _engine(shipped_store, tmp_path)
    yield eng
    await eng.close()
