"""The store's schema as numbered migrations, applied in order: ``MIGRATIONS`` for SQLite (the
version in ``PRAGMA user_version``) and ``POSTGRES_MIGRATIONS`` for PostgreSQL (the version in the
``schema_version`` table). Migration N is the same change on both engines, written in each one's
DDL, so a store is at the same version, with the same tables and columns, whichever holds it.

Never edit a migration that has shipped: add the next one, to both tuples. A newer sitrep opens an
older store and upgrades it in place, keeping everything moderators added.

Conventions: STRICT tables; ``guild_id`` 0 is the shared curated store and any other value is one
Discord server's own additions; ``origin`` says where a row came from (``curated`` from the YAML,
``gazetteer`` from GeoNames, ``added`` at run time) so that a rebuild replaces curated rows and never
touches added ones.
"""

from __future__ import annotations

from bot.store.base import StoreError

LIVE = "f.retired = 0 AND f.rank <> 'deprecated'"
"""A fact that counts at all: not retired by its owner, not deprecated by a later report."""
SHARED_LIVE = f"f.guild_id = 0 AND {LIVE}"
"""The shared facts every server sees unless it retired them for itself."""
RECOUNT_SHARED = (
    "UPDATE places SET shared_facts = 0 WHERE shared_facts <> 0",
    "UPDATE places SET shared_facts = c.n FROM (SELECT f.place_id, count(*) AS n FROM facts f "
    f"WHERE {SHARED_LIVE} GROUP BY f.place_id) AS c WHERE places.id = c.place_id",
)
"""``places.shared_facts`` made true again, in one pass over the facts. Shared facts change only
in a build (servers' own changes never touch them: a server retires a shared fact for itself in
``fact_hidden``), so the build runs these, and so does the migration that added the column."""
STATEMENT_BREAK = ";\n    "
"""Between statements of a migration: each on its own lines, as SQLite's splitter reads them."""


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
    # 2: moderation. What moderators change is kept as an append-only log of changes (who, when,
    # before, after) beside the current state; a shared fact is hidden per server instead of
    # being changed; watches, each server's settings and the review queue of ingested articles.
    """
    CREATE TABLE fact_hidden (
        guild_id INTEGER NOT NULL CHECK (guild_id <> 0),
        fact_id  TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        PRIMARY KEY (guild_id, fact_id)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE changes (
        id       INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL CHECK (guild_id <> 0),
        at       TEXT NOT NULL,
        actor    INTEGER NOT NULL,
        action   TEXT NOT NULL,
        subject  TEXT NOT NULL,  -- "fact:<id>", "place:<id>", "alias:<place>:<name>", ...
        before   TEXT,           -- JSON of the subject before the change; NULL if it did not exist
        after    TEXT,           -- JSON after; NULL if it no longer exists
        reverts  INTEGER REFERENCES changes(id)
    ) STRICT;
    CREATE INDEX changes_subject ON changes(guild_id, subject, id);
    CREATE INDEX changes_actor ON changes(guild_id, actor, id);
    CREATE UNIQUE INDEX changes_reverted_once ON changes(reverts) WHERE reverts IS NOT NULL;
    CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes BEGIN
        SELECT RAISE(ABORT, 'the change log is append-only');
    END;
    CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes BEGIN
        SELECT RAISE(ABORT, 'the change log is append-only');
    END;

    CREATE TABLE watches (
        guild_id   INTEGER NOT NULL CHECK (guild_id <> 0),
        channel_id INTEGER NOT NULL,
        place_id   TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, place_id, channel_id)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE guild_settings (
        guild_id       INTEGER PRIMARY KEY CHECK (guild_id <> 0),
        modlog_channel INTEGER
    ) STRICT;

    CREATE TABLE candidates (
        id          INTEGER PRIMARY KEY,
        guild_id    INTEGER NOT NULL CHECK (guild_id <> 0),
        source_id   TEXT NOT NULL REFERENCES sources(id),
        place_id    TEXT NOT NULL REFERENCES places(id),
        quote       TEXT NOT NULL,
        position    INTEGER NOT NULL,
        summary     TEXT NOT NULL,
        attribution TEXT,
        hedged      INTEGER NOT NULL CHECK (hedged IN (0, 1)),
        hints       TEXT NOT NULL,  -- JSON: matched name, date words, hedge words
        event       TEXT NOT NULL,  -- JSON of the DateSpec
        status      TEXT,
        state       TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'approved', 'rejected')),
        created_at  TEXT NOT NULL,
        created_by  INTEGER NOT NULL,
        decided_at  TEXT,
        decided_by  INTEGER,
        fact_id     TEXT
    ) STRICT;
    CREATE INDEX candidates_queue ON candidates(guild_id, state, id);

    -- "does this server have names of its own?" without scanning the shared ones
    CREATE INDEX place_names_own ON place_names(guild_id) WHERE guild_id <> 0;
    CREATE INDEX places_own ON places(guild_id) WHERE guild_id <> 0;
    CREATE INDEX facts_own ON facts(guild_id) WHERE guild_id <> 0;
    """,
    # 3: the outbox. Each message a change owes (to the server's mod-log, to channels watching
    # its places) is a row written in the change's own transaction, so that a post owed
    # survives a crash and is sent once, by the process that holds the server's shard, whichever
    # process made the change. Times are milliseconds on the database's clock.
    """
    CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY,
        change_id     INTEGER NOT NULL REFERENCES changes(id),
        guild_id      INTEGER NOT NULL CHECK (guild_id <> 0),
        channel_id    INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        due_at        INTEGER NOT NULL,  -- not before: when written, or a retry's time
        claimed_until INTEGER,           -- a lease: claimed_by sends it until then
        claimed_by    TEXT,
        state         TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sent', 'failed')),
        sent_at       INTEGER,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        UNIQUE (change_id, channel_id)
    ) STRICT;
    -- the posts owed only, however long the log: claiming is a range of this small index
    CREATE INDEX outbox_due ON outbox(due_at, id) WHERE state = 'pending';
    -- delivered and given-up posts by age, for pruning
    CREATE INDEX outbox_done ON outbox(created_at) WHERE state <> 'pending';
    """,
    # 4: each place's count of shared facts, so that "N facts" for the busiest places (tens of
    # thousands) is read, not counted on every answer (see RECOUNT_SHARED).
    f"""
    ALTER TABLE places ADD COLUMN shared_facts INTEGER NOT NULL DEFAULT 0;
    {STATEMENT_BREAK.join(RECOUNT_SHARED)};
    """,
)


T = 'text COLLATE "C"'
"""PostgreSQL text compared byte by byte, as SQLite compares it: orderings (names, ids, dates as
ISO text) and ``lower()`` come out the same on both engines, whatever the database's locale."""

FACT_DOCUMENT = ("to_tsvector('simple'::regconfig, "
                 "summary || ' ' || quote || ' ' || coalesce(attribution, ''))")
"""What PostgreSQL's full-text index covers: the columns of SQLite's FTS5 table, with the
``simple`` configuration (lower case, no stemming, no stop words) as FTS5's unicode61 does. The
search repeats this expression exactly, so that the planner uses the index."""

POSTGRES_MIGRATIONS: tuple[str, ...] = (
    # 1: as SQLite's 1. ``rowid`` columns stand in for SQLite's implicit ones ("in the order they
    # were added"); flags are integers 0/1 and dates ISO text, as in SQLite, so one SQL text
    # serves both engines.
    f"""
    CREATE TABLE meta (
        key   {T} PRIMARY KEY,
        value {T} NOT NULL
    );

    CREATE TABLE sources (
        rowid               bigint GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        id                  {T} PRIMARY KEY,
        guild_id            bigint NOT NULL DEFAULT 0,
        origin              {T} NOT NULL CHECK (origin IN ('curated', 'added')),
        outlet              {T} NOT NULL,
        title               {T} NOT NULL,
        author              {T},
        url                 {T},
        genre               {T} NOT NULL,
        published_start     {T} NOT NULL,
        published_end       {T} NOT NULL,
        published_precision {T} NOT NULL,
        published_basis     {T} NOT NULL,
        published_note      {T},
        sha256              {T},
        body                {T},
        note                {T}
    );

    CREATE TABLE places (
        rowid       bigint GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        id          {T} PRIMARY KEY,
        guild_id    bigint NOT NULL DEFAULT 0,
        origin      {T} NOT NULL CHECK (origin IN ('curated', 'gazetteer', 'added')),
        name        {T} NOT NULL,
        kind        {T} NOT NULL,
        parent_id   {T} REFERENCES places(id) DEFERRABLE INITIALLY DEFERRED,
        country     {T},
        governorate {T},
        lat         double precision,
        lon         double precision,
        geonames_id bigint,
        population  bigint NOT NULL DEFAULT 0
    );
    CREATE INDEX places_parent ON places(parent_id) WHERE parent_id IS NOT NULL;

    CREATE TABLE place_names (
        place_id {T} NOT NULL REFERENCES places(id) ON DELETE CASCADE,
        name     {T} NOT NULL,
        guild_id bigint NOT NULL DEFAULT 0,
        origin   {T} NOT NULL CHECK (origin IN ('curated', 'gazetteer', 'added')),
        PRIMARY KEY (place_id, name, guild_id)
    );

    CREATE TABLE false_friends (
        text     {T} PRIMARY KEY,
        kind     {T} NOT NULL,
        place_id {T},
        note     {T}
    );

    CREATE TABLE facts (
        rowid           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        id              {T} NOT NULL UNIQUE,
        guild_id        bigint NOT NULL DEFAULT 0,
        origin          {T} NOT NULL CHECK (origin IN ('curated', 'added')),
        place_id        {T} NOT NULL REFERENCES places(id) DEFERRABLE INITIALLY DEFERRED,
        source_id       {T} NOT NULL REFERENCES sources(id) DEFERRABLE INITIALLY DEFERRED,
        quote           {T} NOT NULL,
        summary         {T} NOT NULL,
        attribution     {T},
        hedged          integer NOT NULL CHECK (hedged IN (0, 1)),
        modality        {T} NOT NULL,
        event_start     {T},
        event_end       {T},
        event_precision {T} NOT NULL,
        event_qualifier {T} NOT NULL,
        event_basis     {T} NOT NULL,
        event_note      {T},
        sort_date       {T} NOT NULL,
        as_of           {T} NOT NULL,
        position        integer NOT NULL DEFAULT 0,
        status          {T},
        rank            {T} NOT NULL CHECK (rank IN ('preferred', 'normal', 'deprecated')),
        retired         integer NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
        created_at      {T} NOT NULL,
        created_by      bigint,
        CHECK (event_precision = 'unknown' OR (event_start IS NOT NULL AND event_end IS NOT NULL))
    );
    CREATE INDEX facts_timeline ON facts(place_id, sort_date, as_of, position);
    CREATE INDEX facts_latest ON facts(place_id, as_of DESC, sort_date DESC, position);
    CREATE INDEX facts_source ON facts(source_id);
    CREATE INDEX facts_fts ON facts USING gin (({FACT_DOCUMENT}));

    CREATE TABLE fact_links (
        fact_id  {T} NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        other_id {T} NOT NULL,
        kind     {T} NOT NULL CHECK (kind IN ('contradicts', 'supersedes')),
        PRIMARY KEY (fact_id, other_id, kind)
    );
    """,
    # 2: as SQLite's 2 (moderation).
    f"""
    CREATE TABLE fact_hidden (
        guild_id bigint NOT NULL CHECK (guild_id <> 0),
        fact_id  {T} NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        PRIMARY KEY (guild_id, fact_id)
    );

    CREATE TABLE changes (
        id       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        guild_id bigint NOT NULL CHECK (guild_id <> 0),
        at       {T} NOT NULL,
        actor    bigint NOT NULL,
        action   {T} NOT NULL,
        subject  {T} NOT NULL,
        before   {T},
        after    {T},
        reverts  bigint REFERENCES changes(id)
    );
    CREATE INDEX changes_subject ON changes(guild_id, subject, id);
    CREATE INDEX changes_actor ON changes(guild_id, actor, id);
    CREATE UNIQUE INDEX changes_reverted_once ON changes(reverts) WHERE reverts IS NOT NULL;
    CREATE FUNCTION changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the change log is append-only';
    END $$;
    CREATE TRIGGER changes_no_update BEFORE UPDATE OR DELETE ON changes
        FOR EACH ROW EXECUTE FUNCTION changes_append_only();

    CREATE TABLE watches (
        guild_id   bigint NOT NULL CHECK (guild_id <> 0),
        channel_id bigint NOT NULL,
        place_id   {T} NOT NULL REFERENCES places(id) ON DELETE CASCADE,
        created_by bigint NOT NULL,
        created_at {T} NOT NULL,
        PRIMARY KEY (guild_id, place_id, channel_id)
    );

    CREATE TABLE guild_settings (
        guild_id       bigint PRIMARY KEY CHECK (guild_id <> 0),
        modlog_channel bigint
    );

    CREATE TABLE candidates (
        id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        guild_id    bigint NOT NULL CHECK (guild_id <> 0),
        source_id   {T} NOT NULL REFERENCES sources(id),
        place_id    {T} NOT NULL REFERENCES places(id),
        quote       {T} NOT NULL,
        position    integer NOT NULL,
        summary     {T} NOT NULL,
        attribution {T},
        hedged      integer NOT NULL CHECK (hedged IN (0, 1)),
        hints       {T} NOT NULL,
        event       {T} NOT NULL,
        status      {T},
        state       {T} NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'approved', 'rejected')),
        created_at  {T} NOT NULL,
        created_by  bigint NOT NULL,
        decided_at  {T},
        decided_by  bigint,
        fact_id     {T}
    );
    CREATE INDEX candidates_queue ON candidates(guild_id, state, id);

    CREATE INDEX place_names_own ON place_names(guild_id) WHERE guild_id <> 0;
    CREATE INDEX places_own ON places(guild_id) WHERE guild_id <> 0;
    CREATE INDEX facts_own ON facts(guild_id) WHERE guild_id <> 0;
    """,
    # 3: as SQLite's 3 (the outbox).
    f"""
    CREATE TABLE outbox (
        id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        change_id     bigint NOT NULL REFERENCES changes(id),
        guild_id      bigint NOT NULL CHECK (guild_id <> 0),
        channel_id    bigint NOT NULL,
        created_at    bigint NOT NULL,
        due_at        bigint NOT NULL,
        claimed_until bigint,
        claimed_by    {T},
        state         {T} NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sent', 'failed')),
        sent_at       bigint,
        attempts      integer NOT NULL DEFAULT 0,
        last_error    {T},
        UNIQUE (change_id, channel_id)
    );
    CREATE INDEX outbox_due ON outbox(due_at, id) WHERE state = 'pending';
    CREATE INDEX outbox_done ON outbox(created_at) WHERE state <> 'pending';
    """,
    # 4: as SQLite's 4.
    f"""
    ALTER TABLE places ADD COLUMN shared_facts integer NOT NULL DEFAULT 0;
    {STATEMENT_BREAK.join(RECOUNT_SHARED)};
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
assert len(POSTGRES_MIGRATIONS) == SCHEMA_VERSION, "each migration is written for both engines"


def newer_store(where: object, version: int, what_to_do: str) -> StoreError:
    """A store written by a newer sitrep: this one must not touch it."""
    return StoreError(f"{where} is at schema version {version}, newer than this sitrep "
                      f"({SCHEMA_VERSION}): {what_to_do}")


def version_problem(where: object, version: int) -> str | None:
    """Why a store at ``version`` cannot serve as it is (``sitrep health``), or None."""
    if version > SCHEMA_VERSION:
        return str(newer_store(where, version, "upgrade sitrep"))
    if version != SCHEMA_VERSION:
        return f"{where} is at schema version {version}: start sitrep to upgrade it"
    return None
