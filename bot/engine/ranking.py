"""How a status chooses and qualifies its headline: which fact states the situation, what follows
it, and the plain caveats (old, opinion, hedged, contradicted) that travel with it.

Kept apart from the engine so that the rules a reader of a status relies on can be read in one
place; the engine only fetches the facts and assembles the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from bot.domain.model import FactView, SourceRef, Status

SUBSTANTIVE_MODALITIES = {"reported", "analysis", "opinion", "speculation"}


def number_sources(facts: Iterable[FactView]) -> list[SourceRef]:
    """The distinct sources of ``facts`` in order of first appearance: footnote [1], [2], ..."""
    seen: dict[str, SourceRef] = {}
    for fact in facts:
        seen.setdefault(fact.source.id, fact.source)
    return list(seen.values())


def is_substantive(fact: FactView) -> bool:
    """Says something about the situation, not only background (where a place lies, what it is)."""
    return fact.status is not None or fact.modality in SUBSTANTIVE_MODALITIES


def headline_fact(facts: list[FactView]) -> FactView | None:
    """The fact that best states the current situation: from the newest report that says something
    substantive, preferring a fact with a status label, then a preferred rank, then the latest
    event."""
    substantive = [f for f in facts if is_substantive(f)]
    if not substantive:
        return None
    newest = max(f.as_of for f in substantive)
    candidates = [f for f in substantive if f.as_of == newest]
    return max(candidates, key=lambda f: (f.status is not None, f.rank == "preferred",
                                          f.event_date.sort_key(f.as_of)))


def after_headline(head: FactView, facts: Iterable[FactView]) -> list[FactView]:
    """The other facts, as a status lists them after its headline: the headline's own report
    first, then newer reports first and, within a report, the facts that speak to the situation (a
    status label) before the rest; the store already gives article order."""
    return sorted((f for f in facts if f.id != head.id),
                  key=lambda f: (f.source.id != head.source.id, -f.as_of.toordinal(),
                                 f.status is None))


def headline_text(fact: FactView) -> str:
    """"Recaptured: Mosul ... liberated.": the fact's status label, then its summary."""
    label = Status(fact.status).label if fact.status else None
    return f"{label}: {fact.summary}" if label else fact.summary


def describe_source(source: SourceRef) -> str:
    """"an opinion column (The Duran)" — how a reply names the kind of source in a caveat."""
    kind = {"opinion": "an opinion column", "blog": "a blog post", "analysis": "an analysis",
            "wire": "a wire report", "news": "a news report"}.get(source.genre, "a report")
    return f"{kind} ({source.outlet})"


def _ago(then: date, today: date) -> str:
    days = (today - then).days
    if days >= 730:
        return f"{days // 365} years old"
    if days >= 60:
        return f"{days // 30} months old"
    return f"{days} days old"


def age_note(newest: FactView, today: date, stale_after_days: int) -> list[str]:
    """A note that the newest information is old, when it is older than ``stale_after_days``."""
    if (today - newest.as_of).days <= stale_after_days:
        return []
    return [f"The newest information is from {newest.source.published_label}, "
            f"{_ago(newest.as_of, today)}: the situation may have changed."]


def caveats(head: FactView, today: date, stale_after_days: int) -> list[str]:
    """What a reader must know about the headline: its age, an opinion or blog source, a hedge,
    and other reports contradicting it."""
    notes = age_note(head, today, stale_after_days)
    if head.source.genre in {"opinion", "blog"} or head.modality in {"opinion", "speculation"}:
        notes.append(f"This comes from {describe_source(head.source)}.")
    if head.hedged:
        notes.append("The source hedges this claim.")
    if head.contradicts:
        notes.append("Other reports contradict this; see the timeline.")
    return notes
