"""What a search asks for, whatever the store's full-text engine: the words, all required, the last
one also as a prefix so that "recap" finds "recaptured" while it is being typed."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12
PREFIX_FROM = 3
"""A last word this long or longer also matches as a prefix; shorter ones would match too much."""


@dataclass(frozen=True, slots=True)
class SearchTerms:
    words: tuple[str, ...]
    last_is_prefix: bool


def search_terms(text: str) -> SearchTerms | None:
    """The words of ``text`` (operators and punctuation are not words, so nothing can be injected
    into the store's query language), or None when there is nothing to search for."""
    words = tuple(_WORD.findall(text)[:MAX_WORDS])
    if not words:
        return None
    return SearchTerms(words, len(words[-1]) >= PREFIX_FROM)
