"""Online backup and restore through SQLite's backup API.

A plain file copy of a WAL database taken while the bot writes can be torn; the backup API copies
a consistent snapshot page by page while other connections keep working. Restoring goes through the
same API in the other direction, after checking that the file really is a sitrep store that this
version can open, and then migrates it, so an old backup restores into a newer sitrep.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.store.base import StoreError
from bot.store.db import (
    SqliteDatabase,
    connect,
    migrate,
    schema_version,
    translated,
)
from bot.store.queries import set_meta
from bot.store.schema import SCHEMA_VERSION, newer_store

REQUIRED_TABLES = {"sources", "places", "place_names", "facts", "meta"}


async def backup(db_path: Path, target: Path) -> int:
    """Copy a consistent snapshot of the store to ``target`` (atomically); return its size."""
    if not db_path.exists():  # noqa: ASYNC240 - one stat() before a long copy
        raise StoreError(f"there is no store at {db_path}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = await connect(db_path, readonly=True)
    try:
        with translated(db_path):
            version = await schema_version(source)
            if version > SCHEMA_VERSION:
                raise newer_store(db_path, version, "back it up with that sitrep")
            async with aiosqlite.connect(partial) as dest:
                await source.backup(dest)
    finally:
        await source.close()
    await _check(partial)
    os.replace(partial, target)
    return target.stat().st_size  # noqa: ASYNC240


async def _check(path: Path) -> int:
    """The schema version of a store file; raises StoreError if it is not a usable sitrep store."""
    try:
        async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = list(await conn.execute_fetchall("PRAGMA quick_check"))
            if rows != [("ok",)]:
                raise StoreError(f"{path} is damaged: {rows[0][0]}")
            tables = {r[0] for r in await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = int(next(iter(await conn.execute_fetchall("PRAGMA user_version")))[0])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a sitrep store: {exc}") from None
    if not tables >= REQUIRED_TABLES:
        raise StoreError(f"{path} is not a sitrep store (tables missing)")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} comes from a newer sitrep (schema {version} > {SCHEMA_VERSION})")
    return version


async def restore(source: Path, db_path: Path) -> int:
    """Replace the store's content with the backup at ``source``, then migrate; return the
    backup's schema version. Into a usable store, the copy goes through the backup API, safe
    while the bot runs, which then reloads its answers and names (``restored_at`` is a new
    generation of the store: ``bot.engine.follow``). A store that cannot be opened (damaged,
    not a store) is replaced whole: that is what restore is for."""
    if not source.exists():  # noqa: ASYNC240
        raise StoreError(f"there is no backup at {source}")
    version = await _check(source)
    try:
        dest = await connect(db_path)
    except StoreError:
        await _replace_broken(source, db_path)
        return version
    try:
        with translated(db_path):
            await schema_version(dest)  # a damaged store fails here, before anything is copied
    except StoreError:
        await dest.close()
        await _replace_broken(source, db_path)
        return version
    try:
        async with aiosqlite.connect(f"file:{source}?mode=ro", uri=True) as src:
            with translated(db_path):
                await src.backup(dest)
                await migrate(dest)
                # a new generation: running processes reload everything, not one server's part
                await set_meta(SqliteDatabase(dest, db_path), "restored_at",
                               datetime.now(UTC).isoformat())
    finally:
        await dest.close()
    return version


async def _replace_broken(source: Path, db_path: Path) -> None:
    """Copy the backup beside the broken store, migrate it, and move it into place atomically;
    the broken file's journal files go too, or SQLite would replay them onto the new file."""
    fresh = db_path.with_name(db_path.name + ".restoring")
    fresh.unlink(missing_ok=True)
    async with aiosqlite.connect(f"file:{source}?mode=ro", uri=True) as src, \
            aiosqlite.connect(fresh) as out:
        await src.backup(out)
    conn = await connect(fresh)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    os.replace(fresh, db_path)
