"""``sitrep check``: the shipped data passes, and each kind of problem is caught and addressed."""

from pathlib import Path

import pytest
import yaml

from bot.__main__ import main
from bot.curation.load import load_curated
from tests.conftest import DATA, SEEDS


def test_shipped_data_passes_the_check() -> None:
    cur, problems = load_curated(SEEDS, DATA)
    assert [str(p) for p in problems] == []
    assert len(cur.sources) == 5 and cur.facts and cur.places


def test_seed_texts_match_their_recorded_sha256() -> None:
    cur, _ = load_curated(SEEDS, DATA)
    assert all(src.sha256 for src in cur.sources.values())


def _edit(data: Path, name: str, change: object) -> None:
    path = data / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def _reasons(data: Path) -> list[str]:
    return [str(p) for p in load_curated(SEEDS, data)[1]]


def test_fixture_data_is_clean(fixture_data: Path) -> None:
    assert _reasons(fixture_data) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["facts"][0].update(quote="Eastern Mosul was liberated quickly"),
         "data/facts.yaml: east-mosul-liberated: quote: not an exact substring"),
        # a straight apostrophe where the article has a curly one is not the article's words
        (lambda d: d["facts"][2].update(quote="the liberation of Mosul, ISIS' former"),
         "data/facts.yaml: mosul-liberation-2019: quote: not an exact substring"),
        (lambda d: d["facts"][0].update(place="atlantis"),
         "data/facts.yaml: east-mosul-liberated: unknown place 'atlantis'"),
        (lambda d: d["facts"][0].update(source="999_nope"),
         "data/facts.yaml: east-mosul-liberated: unknown source '999_nope'"),
        (lambda d: d["facts"][3].update(event="2016-11-02"),
         "data/facts.yaml: mosul-militias-offensive: date: 2 Nov 2016 is after the source was published"),
        (lambda d: d["facts"][3].update(event="2016-02-30"),
         "data/facts.yaml: mosul-militias-offensive: event"),
        (lambda d: d["facts"][1].update(id="east-mosul-liberated"),
         "data/facts.yaml: east-mosul-liberated: duplicate fact id"),
        (lambda d: d["facts"][0].update(status="liberated"),
         "data/facts.yaml: east-mosul-liberated: status: Input should be"),
        (lambda d: d["facts"][0].update(contradicts=["no-such-fact"]),
         "data/facts.yaml: east-mosul-liberated: links to unknown fact 'no-such-fact'"),
    ],
)
def test_each_problem_is_reported_with_file_entry_and_reason(
    fixture_data: Path, change: object, expected: str
) -> None:
    _edit(fixture_data, "facts.yaml", change)
    reasons = _reasons(fixture_data)
    assert any(r.startswith(expected) for r in reasons), reasons


def test_place_problems(fixture_data: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["places"][1]["parent"] = "nowhere"
        d["places"].append(dict(d["places"][0]))
        d["false_friends"].append({"text": "Ramadi", "kind": "other"})

    _edit(fixture_data, "places.yaml", change)
    reasons = _reasons(fixture_data)
    assert "data/places.yaml: east-mosul: unknown parent place 'nowhere'" in reasons
    assert any(r.startswith("data/places.yaml: mosul: duplicate place id") for r in reasons)
    assert "data/places.yaml: Ramadi: a false friend is also a place's name" in reasons


def test_every_problem_is_reported_not_just_the_first(fixture_data: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["facts"][0]["quote"] = "liberated, but not in the text"  # keeps its status's cue
        d["facts"][1]["place"] = "atlantis"

    _edit(fixture_data, "facts.yaml", change)
    assert len(_reasons(fixture_data)) == 2


def test_altered_seed_text_fails_its_checksum(tmp_path: Path, fixture_data: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in SEEDS.iterdir():
        (seeds / f.name).write_bytes(f.read_bytes())
    text = seeds / "004_16783dbdafc97e8b.txt"
    text.write_bytes(text.read_bytes().replace(b"Mosul", b"Mosel"))
    reasons = [str(p) for p in load_curated(seeds, fixture_data)[1]]
    assert any("004_16783dbdafc97e8b: sha256 does not match" in r for r in reasons)


def test_check_command_exit_codes(fixture_data: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITREP_DATA_DIR", str(fixture_data))
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: 5 sources")
    _edit(fixture_data, "facts.yaml", lambda d: d["facts"][0].update(place="atlantis"))
    assert main(["check"]) == 1
    assert "unknown place 'atlantis'" in capsys.readouterr().out
