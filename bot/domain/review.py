"""The review queue: facts proposed from an ingested article wait for a moderator, who approves
(possibly after editing) or rejects each one. A decided item stays decided."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.errors import Conflict, NotFound
from bot.domain.model import DateSpec, Fact, Modality, Status


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One proposed fact in a server's queue."""

    id: int
    source_id: str
    place_id: str
    place_name: str
    quote: str
    summary: str
    attribution: str | None
    hedged: bool
    event: DateSpec
    status: str | None
    hints: dict[str, Any]
    state: str
    fact_id: str | None

    def as_fact(self) -> Fact:
        return Fact(id="draft", place=self.place_id, source=self.source_id, quote=self.quote,
                    summary=self.summary, attribution=self.attribution, hedged=self.hedged,
                    modality=Modality.REPORTED, event=self.event,
                    status=Status(self.status) if self.status else None)


def review_text(item: ReviewItem) -> dict[str, str]:
    """What a moderator may edit while approving, as the form shows it."""
    return {"summary": item.summary, "date": item.event.compact, "status": item.status or "none",
            "attribution": item.attribution or "", "hedged": "yes" if item.hedged else "no"}


def pending_item(item_id: int, item: ReviewItem | None) -> ReviewItem:
    """The item, if it is in this server's queue and not decided yet."""
    if item is None:
        raise NotFound(f"No candidate #{item_id} here.")
    if item.state != ReviewState.PENDING:
        raise Conflict(f"Candidate #{item_id} was already {item.state}.")
    return item
