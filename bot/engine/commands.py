"""The query commands and how a line of text becomes one.

Every front end shares this table, so a command's name, aliases, usage and help text are declared
once. Discord's hybrid commands are registered from the same names in the cogs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    """The query commands: what ``Engine.run`` dispatches over (exhaustively: a new member is a
    mypy error there until it is answered)."""

    STATUS = "status"
    TIMELINE = "timeline"
    SEARCH = "search"
    SOURCES = "sources"
    SOURCE = "source"
    PLACES = "places"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: Command
    usage: str
    summary: str
    aliases: tuple[str, ...] = ()
    takes_argument: bool = False
    argument_required: bool = False


COMMANDS: dict[Command, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(Command.STATUS, "status <place>", "the current situation in a place, with sources",
                    ("s", "sitrep"), True, True),
        CommandSpec(Command.TIMELINE, "timeline <place>", "every fact about a place, oldest first",
                    ("t", "tl", "history"), True, True),
        CommandSpec(Command.SEARCH, "search <words>", "full-text search over facts and quotes",
                    ("find",), True, True),
        CommandSpec(Command.SOURCES, "sources", "the articles the facts come from"),
        CommandSpec(Command.SOURCE, "source <id>", "one source: outlet, date, link, what it covers",
                    (), True, True),
        CommandSpec(Command.PLACES, "places", "the places that have facts"),
        CommandSpec(Command.HELP, "help", "this list", ("commands",)),
    )
}

_BY_NAME = {alias: spec for spec in COMMANDS.values() for alias in (spec.name, *spec.aliases)}
MAX_LINE = 2000


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: Command
    argument: str


def _strip_invisible(text: str) -> str:
    """Drop control and format characters (zero-width, bidi) that could hide in a command word."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " \t")


def parse_command(text: str, prefix: str = "!", *,
                  require_prefix: bool = False) -> ParsedCommand | str:
    """Parse ``"!status Mosul"`` (or ``"status Mosul"`` where no prefix is required).

    Returns the command, or a short message saying what is wrong: the caller replies with it."""
    line = _strip_invisible(text[:MAX_LINE]).strip()
    if line.startswith(prefix):
        line = line[len(prefix):].lstrip()
    elif require_prefix:
        return f"Commands start with `{prefix}`, for example `{prefix}status Mosul`."
    if not line:
        return f"Type a command, for example `{prefix}status Mosul`, or `{prefix}help`."
    word, _, argument = line.partition(" ")
    spec = _BY_NAME.get(word.casefold())
    if spec is None:
        return f"Unknown command. Try `{prefix}help`."
    argument = argument.strip()
    if spec.argument_required and not argument:
        return f"Usage: `{prefix}{spec.usage}`."
    return ParsedCommand(spec.name, argument if spec.takes_argument else "")
