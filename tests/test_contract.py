"""The ``--json`` contract as a model: its published schema is current, every answer the engine
gives fits it exactly, and every answer type renders through every front end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from bot.__main__ import main
from bot.discord.embeds import render_embeds
from bot.discord.views import AnswerView
from bot.engine import Engine
from bot.engine.answers import Answer
from bot.render.json import AnswerContract, render_json, schema_text, to_contract
from bot.render.text import render_text
from tests.conftest import ROOT
from tests.test_golden import GOLDEN

SCHEMA_FILE = ROOT / "docs" / "answer.schema.json"


def test_the_published_schema_is_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/answer.schema.json is out of date: sitrep schema > docs/answer.schema.json")


def test_sitrep_schema_prints_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITREP_DATABASE", str(tmp_path / "unused.db"))
    monkeypatch.delenv("SITREP_DISCORD_TOKEN", raising=False)
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert out == SCHEMA_FILE.read_text(encoding="utf-8")
    schema = json.loads(out)
    assert list(schema["properties"]) == ["command", "query", "place", "as_of", "headline",
                                          "facts", "suggestions", "message", "error"]
    assert schema["required"] == list(schema["properties"])
    assert schema["additionalProperties"] is False


def _outputs() -> list[str]:
    recorded: dict[str, dict[str, Any]] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return [case["json"] for case in recorded.values()]


@pytest.mark.parametrize("output", _outputs())
def test_every_recorded_output_fits_the_contract_exactly(output: str) -> None:
    # strict: no coercion (a number where a string belongs fails); extra keys are forbidden
    contract = AnswerContract.model_validate_json(output, strict=True)
    assert json.dumps(contract.model_dump(mode="json"), ensure_ascii=False) == output


async def one_of_each(engine: Engine) -> list[Answer]:
    return [await engine.status("Mosul"), await engine.timeline("Mosul"),
            await engine.search("surrounded"), await engine.sources(),
            await engine.place_sources("Mosul"), await engine.source("002"),
            await engine.places(), engine.help(), await engine.status("Atlantis"),
            await engine.status("Kirkuk")]


async def test_every_answer_type_renders_through_every_front_end(engine: Engine) -> None:
    """mypy finds a renderer's missing case statically (``assert_never``); this is the same check
    at run time, so that a type added to ``Answer`` without a renderer fails here too."""
    async def never(*_: Any) -> Any:
        raise AssertionError("not pressed")

    answers = await one_of_each(engine)
    assert {type(a) for a in answers} == set(get_args(Answer))
    for answer in answers:
        assert render_text(answer)
        out = render_json(answer)
        assert AnswerContract.model_validate_json(out, strict=True) == to_contract(answer)
        pages = render_embeds(answer)
        assert pages and all(page.description for page in pages)
        AnswerView(answer, pages, 1, never, never)
