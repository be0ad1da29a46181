"""What moderators type, made safe and checked before anything is written.

Every field is bounded, stripped of control and zero-width characters, and has its mentions
neutralised (a stored fact must never ping anyone, whichever front end shows it later). A bad value
raises ``InputError`` with one sentence that names the field and says what is expected; nothing
has been changed at that point.
"""

from __future__ import annotations

import re
import unicodedata

from bot.domain.errors import Invalid
from bot.domain.model import Genre, PlaceKind, Status
from bot.domain.moderation import MAX_NAME

LIMITS = {"summary": 300, "quote": 1000, "attribution": 200, "title": 300, "outlet": 100,
          "author": 100, "url": 500, "name": MAX_NAME, "governorate": 80, "date": 64, "place": 100,
          "source": 100, "status": 40, "kind": 40, "genre": 20, "country": 40, "note": 300,
          "coordinates": 60, "fact": 40, "hedged": 10, "text": 60_000}
"""Longest accepted value per field, in characters."""


class InputError(Invalid, ValueError):
    """A field a moderator typed is not acceptable; ``str()`` is the reply."""


_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_MASS = re.compile(r"@(everyone|here)\b", re.IGNORECASE)
_KEEP = {"\n", "\t"}


def field_text(field: str, value: str | None, *, required: bool = False, multiline: bool = False) -> str:
    """``value`` stripped of control, format (zero-width, bidi) and private characters, with
    mentions made inert, whitespace tidied and its length checked against ``LIMITS[field]``."""
    text = "".join(ch for ch in (value or "")
                   if unicodedata.category(ch)[0] != "C" or (multiline and ch in _KEEP))
    text = _MENTION.sub(lambda m: {"@": "@user", "@!": "@user", "@&": "@role",
                                   "#": "#channel"}[m[1]], text)
    text = _MASS.sub(lambda m: "＠" + m[1], text)
    text = text.strip() if multiline else " ".join(text.split())
    if required and not text:
        raise InputError(f"{field.capitalize()}: required.")
    limit = LIMITS[field]
    if len(text) > limit:
        raise InputError(f"{field.capitalize()}: at most {limit} characters (got {len(text)}).")
    return text


def optional(field: str, value: str | None) -> str | None:
    return field_text(field, value) or None


def _choice(field: str, value: str, options: dict[str, str]) -> str:
    key = " ".join(value.casefold().replace("_", " ").replace("-", " ").split())
    found = options.get(key)
    if found is None:
        listed = ", ".join(sorted(set(options.values())))
        raise InputError(f"{field.capitalize()}: one of {listed}.")
    return found


STATUS_WORDS: dict[str, str] = {
    **{s.value.replace("_", " "): s.value for s in Status},
    **{s.label.casefold(): s.value for s in Status},
}


def parse_status(value: str | None) -> Status | None:
    """A status label or its id ("recaptured", "Held by ISIS", "isis_control"); empty or "none"
    for none."""
    text = field_text("status", value)
    if not text or text.casefold() in {"none", "-"}:
        return None
    return Status(_choice("status", text, STATUS_WORDS))


def parse_kind(value: str | None) -> PlaceKind:
    text = field_text("kind", value) or PlaceKind.TOWN.value
    return PlaceKind(_choice("kind", text, {k.value.replace("_", " "): k.value for k in PlaceKind}))


def parse_genre(value: str | None) -> Genre:
    text = field_text("genre", value) or Genre.NEWS.value
    return Genre(_choice("genre", text, {g.value: g.value for g in Genre}))


COUNTRIES = {"iq": "IQ", "iraq": "IQ", "sy": "SY", "syria": "SY"}


def parse_country(value: str | None) -> str | None:
    text = field_text("country", value)
    if not text:
        return None
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    found = COUNTRIES.get(text.casefold())
    if found is None:
        raise InputError("Country: a two-letter code such as IQ or SY.")
    return found


def parse_coordinates(value: str | None) -> tuple[float | None, float | None]:
    """"36.34, 43.13" (latitude, longitude in decimal degrees), or nothing."""
    text = field_text("coordinates", value)
    if not text:
        return None, None
    m = re.fullmatch(r"(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)", text)
    if not m:
        raise InputError("Coordinates: latitude, longitude in decimal degrees, e.g. 36.34, 43.13.")
    lat, lon = float(m[1]), float(m[2])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError("Coordinates: latitude must be within ±90 and longitude within ±180.")
    return lat, lon


def parse_url(value: str | None) -> str | None:
    text = field_text("url", value)
    if not text:
        return None
    if not re.fullmatch(r"https?://[^\s<>]+", text):
        raise InputError("Url: a web address starting with http:// or https://.")
    return text


def parse_yes_no(field: str, value: str | None) -> bool | None:
    text = field_text(field, value).casefold() if value else ""
    if not text:
        return None
    if text in {"yes", "y", "true", "1", "hedged"}:
        return True
    if text in {"no", "n", "false", "0"}:
        return False
    raise InputError(f"{field.capitalize()}: yes or no.")
