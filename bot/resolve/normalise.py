"""Text normalisation and folding: the one form in which names and queries are compared.

The same functions index names and read queries, which is what makes it safe to be aggressive:
both sides lose the same information.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "normalise", "normalise_text"]

_APOSTROPHES = "'’ʼ‘`ʻʿʾ´′"
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_CONTROL_SPACES = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_PRE: dict[int, str | None] = {ord(c): None for c in _APOSTROPHES}
_PRE.update(
    {
        ord(k): v
        for k, v in {
            # Arabic: one spelling per letter. Alef with hamza/madda/wasla -> bare alef; ta marbuta
            # -> ha; alef maqsura -> ya; hamza carriers -> their letter; Persian/Kurdish ya and kaf.
            "أ": "ا",
            "إ": "ا",
            "آ": "ا",
            "ٱ": "ا",
            "ة": "ه",
            "ى": "ي",
            "ؤ": "و",
            "ئ": "ي",
            "ی": "ي",
            "ک": "ك",
            # Latin letters that have no Unicode decomposition to strip a mark from.
            "ı": "i",
            "ł": "l",
            "ø": "o",
            "đ": "d",
            "ħ": "h",
            "æ": "ae",
            "œ": "oe",
            "þ": "th",
            "ð": "d",
        }.items()
    }
)
_PRE[0x0640] = None  # tatweel
for _cp in [*range(0x064B, 0x0660), 0x0670]:  # harakat / tashkeel, superscript alef
    _PRE[_cp] = None


def _fold_char(ch: str) -> str | None:
    """What one (already NFKC-normalised and case-folded) character becomes: itself, a spelling
    variant, a decomposed letter without its marks, "-" for a hyphen (articles are recognised by
    it), a space for punctuation/symbols/whitespace, or nothing for marks and format/control
    characters (zero-width and bidi controls must not split a word: "Mo\u200bsul" is "mosul")."""
    out: list[str] = []
    for c in unicodedata.normalize("NFKD", ch.translate(_PRE)):
        cat = unicodedata.category(c)
        if cat[0] == "M":
            continue
        if c in _HYPHENS:
            out.append("-")
        elif c.isalnum():
            out.append(c)
        elif cat[0] == "C" and c not in _CONTROL_SPACES:
            continue
        else:
            out.append(" ")
    return "".join(out) or None


class _FoldTable(dict[int, "str | None"]):
    """A ``str.translate`` table filled on demand, so normalisation runs in C after the first
    sight of each character. Growth is capped: hostile input cycling through a million code
    points must not grow memory; past the cap, characters are folded on every call."""

    CAP = 8192

    def __missing__(self, cp: int) -> str | None:
        value = _fold_char(chr(cp))
        if len(self) < self.CAP:
            self[cp] = value
        return value


_TABLE = _FoldTable()
_ARTICLES = "al|el|ar|as|ad|az|an|at|ash|ath|adh|ed|ez|es|er|et|en"
_HYPHEN_ARTICLE = re.compile(rf"(?<!\w)(?:{_ARTICLES})-+(?=\w)")
_ARTICLE_HINT = re.compile(rf"(?:^|\s)(?:{_ARTICLES}|ash|ال)(?:\s|$)|(?:^|\s)ال")
"""Cheap test for "maybe an article to drop", so most names skip the per-word loop."""
_DROP_TOKENS = frozenset({"al", "el", "ال"})
_SUN_ARTICLES = frozenset(
    {"ar", "as", "ad", "az", "an", "at", "ash", "ath", "adh", "ed", "ez", "es", "er", "et", "en"}
)


def _drop_articles(tokens: list[str]) -> list[str]:
    """Drop standalone al/el, an assimilated article written as its own word ("Ar Raqqah",
    "Ash Shatrah", "Deir ez Zor": the article's consonant starts the next word), and Arabic ال on
    each word ("دير الزور" -> "دير زور")."""
    out: list[str] = []
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        if tok in _DROP_TOKENS:
            continue
        if tok in _SUN_ARTICLES and i < last and tokens[i + 1].startswith(tok[1:]):
            continue
        if len(tok) > 3 and tok.startswith("ال"):
            tok = tok[2:]
        out.append(tok)
    return out


def normalise_text(text: str, articles: bool = True) -> str:
    """:func:`normalise`, optionally keeping the articles: a false friend written exactly as
    curated ("Baghdadi") must be told apart from the place whose name only differs by one
    ("Al-Baghdadi").

    Three shortcuts keep it cheap at 200k names: ASCII skips NFKC (a no-op on ASCII), the hyphen
    work runs only when there is a hyphen, and the per-word article loop only when
    ``_ARTICLE_HINT`` sees a word that could be an article."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold().translate(_TABLE)
    if "-" in text:
        if articles:
            text = _HYPHEN_ARTICLE.sub("", text)
        text = text.replace("-", " ")
    if articles and _ARTICLE_HINT.search(text):
        return " ".join(_drop_articles(text.split()))
    return " ".join(text.split())


def normalise(text: str) -> str:
    """The form in which names are compared: NFKC, case-folded, without diacritics, Arabic vowel
    marks, tatweel or zero-width/bidi/control characters; Arabic letter variants unified;
    apostrophes removed; punctuation as spaces; transliterated and Arabic articles dropped
    ("Ar-Rutbah" -> "rutbah", "Deir ez-Zor" -> "deir zor", "الرمادي" -> "رمادي").

    """
    return normalise_text(text, articles=True)


_TRAIL_H = re.compile(r"(?<=[aeiou])h\b")
_DOUBLE = re.compile(r"(\w)\1+")


def _first_group(m: re.Match[str]) -> str:
    return m.group(1)


def fold(norm: str) -> str:
    """Fold transliteration variants of a normalised name: y/i, Deir/Dair, Ramadee/Ramadi,
    Heet/Hit, Mossoul/Mosul, Qaim/Kaim, Baghdad/Bagdad, Fallujah/Falluja, doubled letters.

    Fuzzy matching only, and without storing folded copies of 200k names: the fuzzy buckets are
    keyed by the folded form but hold the name itself; a query is scored in both forms; the few
    finalists are folded again at query time. Never used for exact matches, where it would merge
    distinct names."""
    if not norm.isascii():
        return norm
    s = norm.replace("y", "i").replace("ei", "ai").replace("ee", "i").replace("oo", "u")
    s = s.replace("ou", "u").replace("ck", "k").replace("q", "k").replace("gh", "g")
    if s[-1:] == "h" or "h " in s:
        s = _TRAIL_H.sub("", s)
    if _DOUBLE.search(s):
        s = _DOUBLE.sub(_first_group, s)
    return norm if s == norm else s
