"""The store's schema as numbered migrations, applied in order and tracked in ``PRAGMA user_version``.

Never edit a migration that has shipped: add the next one. A newer sitrep opens an older store and
upgrades it in place, keeping everything moderators added.

Conventions: STRICT tables; ``guild_id`` 0 is the shared curated store and any other value is one
Discord server's own additions; ``origin`` says where a row came from (``curated`` from the YAML,
``gazetteer`` from GeoNames, ``added`` at run time) so that a rebuild replaces curated rows and never
touches added ones.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: sources, places and their names, facts with an FTS5 index, links between facts.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE sources (
        id                  TEXT PRIMARY KEY,
        guild_id            INTEGER NOT NULL DEFAULT 0,
        origin              TEXT NOT NULL CHECK (origin IN ('curated', 'added')),
        outlet              TEXT NOT NULL,
        title               TEXT NOT NULL,
        author              TEXT,
        url                 TEXT,
        genre               TEXT NOT NULL,
        published_start     TEXT NOT NULL,
        published_end       TEXT NOT NULL,
        published_precision TEXT NOT NULL,
        published_basis     TEXT NOT NULL,
        published_note      TEXT,
        sha256              TEXT,
        body                TEXT,
        note                TEXT
    ) STRICT;

    CREATE TABLE places (
        id          TEXT PRIMARY KEY,
        guild_id    INTEGER NOT NULL DEFAULT 0,
        origin      TEXT NOT NULL CHECK (origin IN ('curated', 'gazetteer', 'added')),
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        parent_id   TEXT REFERENCES places(id) DEFERRABLE INITIALLY DEFERRED,
        country     TEXT,
        governorate TEXT,
        lat         REAL,
        lon         REAL,
        geonames_id INTEGER,
        population  INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX places_parent ON places(parent_id) WHERE parent_id IS NOT NULL;

    CREATE TABLE place_names (
        place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
        name     TEXT NOT NULL,
        guild_id INTEGER NOT NULL DEFAULT 0,
        origin   TEXT NOT NULL CHECK (origin IN ('curated', 'gazetteer', 'added')),
        PRIMARY KEY (place_id, name, guild_id)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE false_friends (
        text     TEXT PRIMARY KEY,
        kind     TEXT NOT NULL,
        place_id TEXT,
        note     TEXT
    ) STRICT;

    CREATE TABLE facts (
        rowid           INTEGER PRIMARY KEY,
        id              TEXT NOT NULL UNIQUE,
        guild_id        INTEGER NOT NULL DEFAULT 0,
        origin          TEXT NOT NULL CHECK (origin IN ('curated', 'added')),
        place_id        TEXT NOT NULL REFERENCES places(id) DEFERRABLE INITIALLY DEFERRED,
        source_id       TEXT NOT NULL REFERENCES sources(id) DEFERRABLE INITIALLY DEFERRED,
        quote           TEXT NOT NULL,
        summary         TEXT NOT NULL,
        attribution     TEXT,
        hedged          INTEGER NOT NULL CHECK (hedged IN (0, 1)),
        modality        TEXT NOT NULL,
        event_start     TEXT,
        event_end       TEXT,
        event_precision TEXT NOT NULL,
        event_qualifier TEXT NOT NULL,
        event_basis     TEXT NOT NULL,
        event_note      TEXT,
        sort_date       TEXT NOT NULL,
        as_of           TEXT NOT NULL,
        position        INTEGER NOT NULL DEFAULT 0,  -- where the quote sits in its source
        status          TEXT,
        rank            TEXT NOT NULL CHECK (rank IN ('preferred', 'normal', 'deprecated')),
        retired         INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
        created_at      TEXT NOT NULL,
        created_by      INTEGER,
        CHECK (event_precision = 'unknown' OR (event_start IS NOT NULL AND event_end IS NOT NULL))
    ) STRICT;
    -- "timeline of a place" and "latest facts of a place" are both index range scans.
    CREATE INDEX facts_timeline ON facts(place_id, sort_date, as_of, position);
    CREATE INDEX facts_latest ON facts(place_id, as_of DESC, sort_date DESC, position);
    CREATE INDEX facts_source ON facts(source_id);

    CREATE TABLE fact_links (
        fact_id  TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        other_id TEXT NOT NULL,
        kind     TEXT NOT NULL CHECK (kind IN ('contradicts', 'supersedes')),
        PRIMARY KEY (fact_id, other_id, kind)
    ) STRICT, WITHOUT ROWID;

    CREATE VIRTUAL TABLE facts_fts USING fts5(
        summary, quote, attribution,
        content='facts', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER facts_fts_insert AFTER INSERT ON facts BEGIN
        INSERT INTO facts_fts(rowid, summary, quote, attribution)
        VALUES (new.rowid, new.summary, new.quote, coalesce(new.attribution, ''));
    END;
    CREATE TRIGGER facts_fts_delete AFTER DELETE ON facts BEGIN
        INSERT INTO facts_fts(facts_fts, rowid, summary, quote, attribution)
        VALUES ('delete', old.rowid, old.summary, old.quote, coalesce(old.attribution, ''));
    END;
    CREATE TRIGGER facts_fts_update AFTER UPDATE OF summary, quote, attribution ON facts BEGIN
        INSERT INTO facts_fts(facts_fts, rowid, summary, quote, attribution)
        VALUES ('delete', old.rowid, old.summary, old.quote, coalesce(old.attribution, ''));
        INSERT INTO facts_fts(rowid, summary, quote, attribution)
        VALUES (new.rowid, new.summary, new.quote, coalesce(new.attribution, ''));
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
