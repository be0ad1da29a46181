"""Every front end's output on the shipped store, byte for byte, against a recorded copy.

``tests/golden/shipped.json`` holds, for a wide set of questions (every command, aliases, fuzzy and
foreign-script names, unknown names, non-places, places without facts, searches without hits, bad
input, and the answers behind the Discord buttons), what ``sitrep ask --json`` prints, what the
console prints, the Discord embeds and the buttons under them. The ``--json`` output is a contract
other tools rely on (README, "From scripts: sitrep ask"; ``docs/answer.schema.json``), and the text
and embeds are what people read: a change to any of them must be deliberate, so it shows up here.

After a deliberate change, rewrite the file and review its diff:
``.venv/bin/python -m tests.test_golden``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.discord.embeds import render_embeds
from bot.discord.views import AnswerView
from bot.engine import Engine
from bot.render.json import render_json
from bot.render.text import render_text
from tests.conftest import DATA, SEEDS, TODAY

GOLDEN = Path(__file__).resolve().parent / "golden" / "shipped.json"

PLACES = ["Mosul", "East Mosul", "west mosul", "Ramadi", "Raqqa", "Hit", "Palmyra", "Deir ez-Zor",
          "Aleppo", "Fallujah", "Haditha", "Baiji", "Samarra", "Tikrit", "Tal Afar", "Iraq",
          "Syria", "Anbar", "Nineveh", "Middle East", "Tharthar Dam", "Euphrates", "Baghdad",
          "Al-Baghdadi", "Rutba", "Kubaysah"]
FUZZY = ["Mosel", "Tadmur", "Dayr az-Zawr", "الموصل", "the city of Mosul", "Ramadee", "Raqa",
         "Falluja", "RAMADI", "  mosul  "]
UNKNOWN = ["Atlantis", "Xyzzyville", "qqqq", "Mos", "Deir", "Tel", "Abu", "x" * 300,
           "<@123> @everyone", "**Mosul**", "'; DROP TABLE facts;--"]
AMBIGUOUS = ["Mosul and Ramadi", "Raqqa or Palmyra", "Abu Ghraib", "Rawaa", "Sinjar"]
NOT_PLACES = ["Abu Bakr al-Baghdadi", "Putin", "Trump", "Baghdadi", "Saddam Hussein"]
NO_FACTS = ["Kirkuk", "Qamishli", "Moscow", "Basra", "Erbil"]
SEARCHES = ["surrounded", "Mosul", "liberated", "surro", "zzzzqqq", "ISIS", "*", "AND OR NOT",
            '" OR 1', "NEAR(a b)", "summary:*", "\"'", "dam", "Raqqa surrounded", "militias"]
ASKS = [
    *(f"!status {q}" for q in [*PLACES, *FUZZY, *UNKNOWN, *AMBIGUOUS, *NOT_PLACES,
                                    *NO_FACTS]),
    *(f"!timeline {q}" for q in ["Mosul", "Ramadi", "Raqqa", "Hit", "Iraq", "Syria", "Kirkuk",
                                 "Atlantis", "Mosel", "Putin", "Tadmur", "Mosul and Ramadi"]),
    *(f"!search {q}" for q in SEARCHES),
    "!sources", "!source 002", "!source 0", "!source 00", "!source nope",
    "!source 004_16783dbdafc97e8b", "!source 001_B4A972F6C9D70E69", "!places", "!help",
    "!commands", "!s Mosul", "!sitrep Raqqa", "!t Ramadi", "!tl Hit", "!history Mosul",
    "!find surrounded", "status Mosul", "timeline Raqqa",
    "", "!", "!frobnicate Mosul", "!status", "!timeline", "!search", "!source",
    "!status \u200b\u202e", "!search \u200b", "!search ***", "status", "<@123> @everyone",
    "x" * 3000, "!HELP", "!Sources extra words", "!places now",
]
BUTTONS = ["mosul", "ramadi", "raqqa", "haditha", "hit", "iraq", "qamishli", "gn-94787",
           "no-such-place"]
"""Place ids pressed on the Timeline, Sources and "did you mean" buttons."""


def _buttons(view: AnswerView) -> list[str]:
    return [str(getattr(item, "custom_id", "")) for item in view.children]


async def record(engine: Engine) -> dict[str, dict[str, Any]]:
    """What each front end shows for every question."""
    async def never(*_: Any) -> Any:
        raise AssertionError("not pressed")

    asked: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        (text, lambda text=text: engine.ask(text)) for text in ASKS]
    for place in BUTTONS:
        asked += [
            (f"button status {place}", lambda p=place: engine.status("", place_id=p)),
            (f"button timeline {place}", lambda p=place: engine.timeline("", place_id=p)),
            (f"button sources {place}", lambda p=place: engine.place_sources("", place_id=p)),
        ]
    out: dict[str, dict[str, Any]] = {}
    for name, ask in asked:
        answer = await ask()
        pages = render_embeds(answer)
        view = AnswerView(answer, pages, 1, never, never)
        out[name] = {"json": render_json(answer), "text": render_text(answer),
                     "embeds": [page.to_dict() for page in pages], "buttons": _buttons(view)}
    return out


async def _record_fresh() -> dict[str, dict[str, Any]]:
    from bot.runtime import open_at
    from bot.store.stores import build_store

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sitrep.db"
        await build_store(db, SEEDS, DATA)
        rt = await open_at(db, today=lambda: TODAY)
        try:
            return await record(rt.engine)
        finally:
            await rt.close()


def _load() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


async def test_every_front_end_prints_what_it_printed(shipped: Engine) -> None:
    """On both engines, byte for byte; only searches may differ on PostgreSQL, whose ranking
    (``ts_rank``) and snippets (``ts_headline``) are not FTS5's: there, the same number of facts
    must match (README, "PostgreSQL")."""
    golden = _load()
    now = await record(shipped)
    assert list(now) == list(golden)
    on_postgres = shipped.store.location.startswith("postgresql://")
    for name, expected in golden.items():
        if on_postgres and (name.startswith("!search") or name.startswith("!find")):
            assert json.loads(now[name]["json"])["message"] == \
                json.loads(expected["json"])["message"], name
            continue
        assert now[name]["json"] == expected["json"], name  # the contract, byte for byte
        assert now[name]["text"] == expected["text"], name
        assert now[name]["embeds"] == expected["embeds"], name
        assert now[name]["buttons"] == expected["buttons"], name


def test_the_recording_covers_every_error_and_command() -> None:
    contracts = [json.loads(case["json"]) for case in _load().values()]
    assert {c["error"] for c in contracts} == {None, "unknown_place", "not_a_place", "ambiguous",
                                               "no_facts", "no_results", "unknown_source",
                                               "bad_input"}
    assert {c["command"] for c in contracts} == {"", "status", "timeline", "search", "sources",
                                                 "source", "places", "help"}


def _write() -> None:
    recorded = asyncio.run(_record_fresh())
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(recorded)} cases to {GOLDEN.name}")


if __name__ == "__main__":
    _write()
