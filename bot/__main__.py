"""The ``sitrep`` command line: run | console | ask | build | check | export | import | copy-store.

``sitrep run`` is the main job: the Discord bot when a token is set, otherwise the console on the
embedded store. Every subcommand that answers questions builds the store first when it is missing or
older than the curated files, so a fresh checkout needs no separate build step.

``sitrep export --guild ID [--format json|csv] [-o FILE]`` writes one server's own data (JSON, for
``sitrep import FILE --guild ID``) or everything it sees (CSV, for spreadsheets); see
``bot.store.exchange``.

``sitrep copy-store --from URL --to URL [--replace]`` copies every row of one store into another,
on either engine, and verifies the copy before it commits; see ``bot.store.copy``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings, SettingsError, StoreLocation, load_settings, parse_store_url
from bot.curation.load import load_curated
from bot.domain.errors import StoreFailure
from bot.render.json import render_json, schema_text
from bot.render.text import render_text
from bot.runtime import running
from bot.services.shards import down_too_long, plan_lines, shard_lines
from bot.store.backup import backup, restore
from bot.store.build import BuildError
from bot.store.copy import copy_store
from bot.store.exchange import ImportProblems
from bot.store.stores import build_store, open_store, store_health

log = logging.getLogger("sitrep")

EXIT_USAGE = 2
HEARTBEAT_STALE = 60.0


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def cmd_ask(settings: Settings, text: str, as_json: bool) -> int:
    async with running(settings) as rt:
        answer = await rt.engine.ask(text)
    print(render_json(answer) if as_json else render_text(answer))
    return EXIT_USAGE if answer.error == "bad_input" else 0


async def cmd_console(settings: Settings, stdin_is_tty: bool) -> int:
    async with running(settings) as rt:
        engine = rt.engine
        if stdin_is_tty:
            print(f"sitrep console: type `{settings.prefix}help`, or Ctrl-D to leave.")
        while True:
            try:
                line = await asyncio.to_thread(input, "sitrep> " if stdin_is_tty else "")
            except EOFError:
                break
            if not line.strip():
                continue
            if line.strip() in {"quit", "exit"}:
                break
            answer = await engine.ask(line)
            print(render_text(answer), flush=True)
            if not stdin_is_tty:
                print(flush=True)
    return 0


def cmd_check(settings: Settings) -> int:
    cur, problems = load_curated(settings.seeds_dir, settings.data_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s).", file=sys.stderr)
        return 1
    print(f"ok: {len(cur.sources)} sources, {len(cur.places)} places, "
          f"{len(cur.false_friends)} false friends, {len(cur.facts)} facts")
    return 0


async def cmd_build(settings: Settings, force: bool) -> int:
    report = await build_store(settings.store, settings.seeds_dir, settings.data_dir,
                               force=force)
    verb = "built" if report.built else "up to date"
    print(f"{verb}: {settings.store} · {report.sources} sources, {report.places} places "
          f"(+{report.gazetteer_places} from GeoNames), {report.facts} facts · "
          f"{report.seconds:.2f}s")
    return 0


NO_TOKEN = "set SITREP_DISCORD_TOKEN (or SITREP_DISCORD_TOKEN_FILE) to run the bot"


async def cmd_bot(settings: Settings) -> int:
    if not settings.has_token:
        print(f"sitrep: {NO_TOKEN}", file=sys.stderr)
        return EXIT_USAGE
    from bot.discord.app import run_bot

    return await run_bot(settings)


async def cmd_health(settings: Settings) -> int:
    """Exit 0 when the store is readable and, if the bot keeps a heartbeat, that it is fresh and
    no shard it holds has stayed disconnected; then each shard's state."""
    problem = await health_problem(settings)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
    else:
        print("healthy")
    if settings.heartbeat_file is not None:  # each shard the process holds, as it last wrote
        with contextlib.suppress(OSError):
            beat = settings.heartbeat_file.read_text(encoding="utf-8")
            for line in shard_lines(beat, time.time()):
                print(line)
    return 1 if problem else 0


async def health_problem(settings: Settings) -> str | None:
    problem = await store_health(settings.store)
    if problem is not None:
        return problem
    if settings.heartbeat_file is not None:
        try:
            age = time.time() - settings.heartbeat_file.stat().st_mtime
            beat = settings.heartbeat_file.read_text(encoding="utf-8")
        except OSError:
            return "no heartbeat yet"
        if age > HEARTBEAT_STALE:
            return f"the heartbeat is {age:.0f} s old"
        return down_too_long(beat, time.time())
    return None


async def cmd_shards(settings: Settings) -> int:
    """Which process holds which shard, as the running bots last reported to the store."""
    store = await open_store(settings.store)
    try:
        reports = await store.shard_reports()
    finally:
        await store.close()
    for line in plan_lines(reports, time.time()):
        print(line)
    return 0


PG_BACKUP = ("the store is on PostgreSQL ({store}): back it up with PostgreSQL's own tools, "
             "`pg_dump --format=custom --file=sitrep.dump DATABASE`, and restore with "
             "`pg_restore --clean --if-exists --dbname=DATABASE sitrep.dump` (README: PostgreSQL)")


async def cmd_backup(settings: Settings, target: Path) -> int:
    if settings.store.path is None:
        print(f"sitrep: {PG_BACKUP.format(store=settings.store)}", file=sys.stderr)
        return EXIT_USAGE
    size = await backup(settings.store.path, target)
    print(f"backed up {settings.store} to {target} ({size / 1e6:.1f} MB)")
    return 0


async def cmd_restore(settings: Settings, source: Path) -> int:
    if settings.store.path is None:
        print(f"sitrep: {PG_BACKUP.format(store=settings.store)}", file=sys.stderr)
        return EXIT_USAGE
    version = await restore(source, settings.store.path)
    print(f"restored {source} (schema {version}) into {settings.store}")
    return 0


CLI_ACTOR = 0
"""Who the change log names for an import from the command line: no Discord user did it."""


async def export_text(settings: Settings, guild: int, fmt: str) -> str:
    async with running(settings, quiet=True) as rt:
        if fmt == "csv":
            return await rt.moderation.export_csv(guild)
        return json.dumps(await rt.moderation.export_document(guild), ensure_ascii=False,
                          indent=2) + "\n"


def cmd_export(settings: Settings, guild: int, fmt: str, target: Path | None) -> int:
    text = asyncio.run(export_text(settings, guild, fmt))
    if target is None:
        sys.stdout.write(text)
    else:
        # newline="" keeps the CSV's CRLF row ends as the csv module wrote them
        target.write_text(text, encoding="utf-8", newline="")
        print(f"exported server {guild} ({fmt}) to {target}", file=sys.stderr)
    return 0


def cmd_import(settings: Settings, guild: int, source: Path) -> int:
    """Import a JSON export; print each change, or each problem (and change nothing)."""
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"{source}: cannot read it as JSON: {exc}", file=sys.stderr)
        return 1
    try:
        lines = asyncio.run(import_lines(settings, guild, data))
    except ImportProblems as exc:
        for problem in exc.problems:
            print(f"{source}: {problem}")
        print(f"{len(exc.problems)} problem(s); nothing was imported.", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


async def import_lines(settings: Settings, guild: int, data: object) -> list[str]:
    async with running(settings, quiet=True) as rt:
        return (await rt.moderation.import_document(guild, CLI_ACTOR, data)).lines()


async def cmd_copy_store(source: StoreLocation, target: StoreLocation, replace: bool) -> int:
    report = await copy_store(source, target, replace=replace)
    for line in report.lines():
        print(line)
    return 0


def _store_url(text: str) -> StoreLocation:
    """A ``--from``/``--to`` URL; the error never repeats it, as it may hold a password."""
    try:
        return parse_store_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _server_id(text: str) -> int:
    """A Discord server id; 0 is the shared curated store, which is not a server's layer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a server id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("a server id is a positive number (0 is the shared store)")
    return value


async def cmd_run(settings: Settings) -> int:
    if not settings.has_token:
        log.info("SITREP_DISCORD_TOKEN is not set: starting the console on the embedded store")
        return await cmd_console(settings, sys.stdin.isatty())
    return await cmd_bot(settings)


def cmd_schema() -> int:
    """The JSON Schema of ``sitrep ask --json`` (the file docs/answer.schema.json holds)."""
    print(schema_text(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sitrep", description=__doc__.splitlines()[0])
    parser.add_argument("--database", metavar="FILE|URL",
                        help="the store: a file or a sqlite:// or postgresql:// URL "
                             "(default: SITREP_DATABASE_URL, else SITREP_DATABASE)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="the bot with a token, else the console (the default)")
    sub.add_parser("console", help="answer commands typed or piped on standard input")
    ask = sub.add_parser("ask", help="answer one command, e.g. sitrep ask '!status Mosul'")
    ask.add_argument("text", help="the command, with or without the prefix")
    ask.add_argument("--json", action="store_true", help="print the JSON contract")
    build = sub.add_parser("build", help="compile the curated files into the store")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    sub.add_parser("check", help="validate the curated files and list every problem")
    sub.add_parser("bot", help="the Discord bot (needs SITREP_DISCORD_TOKEN)")
    sub.add_parser("health", help="exit 0 when the store is readable and the bot alive")
    sub.add_parser("shards", help="which process holds which shard, and its servers")
    backup_cmd = sub.add_parser("backup", help="a consistent copy of the store, safe while running")
    backup_cmd.add_argument("file", type=Path)
    restore_cmd = sub.add_parser("restore", help="put a backup back (and upgrade it)")
    restore_cmd.add_argument("file", type=Path)
    export = sub.add_parser("export", help="one server's data: its own (json) or all it sees (csv)")
    export.add_argument("--guild", type=_server_id, required=True, help="the Discord server id")
    export.add_argument("--format", choices=("json", "csv"), default="json",
                        help="json: the server's own rows, for import; csv: every fact it sees")
    export.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    import_cmd = sub.add_parser("import", help="add a JSON export to a server's own data")
    import_cmd.add_argument("file", type=Path)
    import_cmd.add_argument("--guild", type=_server_id, required=True, help="the Discord server id")
    sub.add_parser("schema", help="print the JSON Schema of `sitrep ask --json`")
    copy = sub.add_parser(
        "copy-store", help="copy every row of one store into another (SQLite <-> PostgreSQL)",
        description="Copy every row of one store into another, on either engine, in one "
                    "transaction, and verify the copy table by table before it commits. The "
                    "source may be in use: it is read as one consistent state. A PostgreSQL "
                    "password goes in the URL, or (kept out of the process list) in PGPASSWORD "
                    "or ~/.pgpass; it is never printed.")
    copy.add_argument("--from", dest="source", metavar="URL", type=_store_url, required=True,
                      help="the store to copy: sqlite:///relative.db, sqlite:////absolute.db "
                           "or postgresql://user[:password]@host[:port]/db")
    copy.add_argument("--to", dest="target", metavar="URL", type=_store_url, required=True,
                      help="where to copy it (created or migrated as needed); must be empty")
    copy.add_argument("--replace", action="store_true",
                      help="delete everything the target holds first (in the same transaction)")
    return parser


def _store_override(database: str | None) -> dict[str, object]:
    """``--database`` takes a file or a URL, and wins over both SITREP_DATABASE settings."""
    if not database:
        return {}
    if "://" in database:
        return {"database_url": database}
    return {"database": Path(database), "database_url": None}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = _store_override(args.database)
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"sitrep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _setup_logging(settings)
    command = args.command or "run"
    try:
        if command == "check":
            return cmd_check(settings)
        if command == "build":
            return asyncio.run(cmd_build(settings, args.force))
        if command == "ask":
            return asyncio.run(cmd_ask(settings, args.text, args.json))
        if command == "console":
            return asyncio.run(cmd_console(settings, sys.stdin.isatty()))
        if command == "bot":
            return asyncio.run(cmd_bot(settings))
        if command == "health":
            return asyncio.run(cmd_health(settings))
        if command == "shards":
            return asyncio.run(cmd_shards(settings))
        if command == "backup":
            return asyncio.run(cmd_backup(settings, args.file))
        if command == "restore":
            return asyncio.run(cmd_restore(settings, args.file))
        if command == "export":
            return cmd_export(settings, args.guild, args.format, args.output)
        if command == "import":
            return cmd_import(settings, args.guild, args.file)
        if command == "schema":
            return cmd_schema()
        if command == "copy-store":
            return asyncio.run(cmd_copy_store(args.source, args.target, args.replace))
        return asyncio.run(cmd_run(settings))
    except BuildError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"sitrep: {exc}", file=sys.stderr)
        return 1
    except StoreFailure as exc:
        print(f"sitrep: {exc}", file=sys.stderr)
        return 1
    except SettingsError as exc:  # a setting only the Discord front end can check
        print(f"sitrep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
