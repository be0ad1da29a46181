"""Watches: a channel follows a place's changes in its own server, and only there."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import Invalid

MAX_WATCHES = 100
"""Per server: enough for any real use, few enough that one change cannot fan out into a flood."""


@dataclass(frozen=True, slots=True)
class Watch:
    channel_id: int
    place_id: str
    place_name: str


def room_for_watch(count: int) -> None:
    if count >= MAX_WATCHES:
        raise Invalid(f"This server already has {MAX_WATCHES} watches; remove some first.")
