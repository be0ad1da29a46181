"""The rules an import, a curated file and a moderator's name share, on their own: no store, no
files. Each is written once in the domain so the three ways into the store cannot disagree."""

from __future__ import annotations

import hashlib
from datetime import date

from bot.domain import moderation as rules
from bot.domain.checks import text_altered
from bot.domain.model import DateSpec, Fact, Genre, Source
from bot.services.inputs import LIMITS

TEXT = "Iraqi forces advanced on Mosul on Sunday. “We will win,” a commander said."
SOURCE = Source(id="s1", outlet="Wire", title="T", genre=Genre.WIRE,
                published=DateSpec.single_day(date(2016, 10, 17)),
                sha256=hashlib.sha256(TEXT.encode()).hexdigest())
FACT = Fact(id="f1", place="mosul", source="s1", quote="forces advanced", summary="They advanced.",
            event=DateSpec.single_day(date(2016, 10, 16)))


def test_a_fingerprinted_text_must_be_the_original() -> None:
    assert not text_altered(SOURCE, TEXT)
    assert not text_altered(SOURCE, TEXT.encode())  # a seed file's bytes, as curation reads it
    assert text_altered(SOURCE, TEXT.replace("win", "lose"))
    assert text_altered(SOURCE, TEXT + "\n")  # one byte is enough
    # without a fingerprint there is nothing to compare against: not called altered
    assert not text_altered(SOURCE.model_copy(update={"sha256": None}), "anything")


def test_only_a_shared_fact_is_hidden_for_a_server() -> None:
    shared = rules.StoredFact(FACT, "curated", 0, True)
    assert rules.hideable(shared)
    assert rules.hideable(rules.StoredFact(FACT, "curated", 0, False))  # already hidden: kept so
    assert not rules.hideable(rules.StoredFact(FACT, "added", 111, True))  # its own: retire it
    assert not rules.hideable(None)  # unknown here, or another server's


def test_a_typed_name_and_an_imported_one_have_the_same_limit() -> None:
    assert LIMITS["name"] == rules.MAX_NAME
