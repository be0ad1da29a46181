"""Buttons under replies: page through long answers, open a place's timeline or sources, and pick
from "did you mean" suggestions.

After RoboDanny's paginator: only the person who asked can turn the pages (anyone else gets a short
private note), and the buttons are removed when the view times out so that dead buttons never linger.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, assert_never, cast

import discord

from bot.domain.model import PlaceRef
from bot.engine.answers import (
    Answer,
    ErrorCode,
    FailureAnswer,
    HelpAnswer,
    PlacesAnswer,
    PlaceSourcesAnswer,
    SearchAnswer,
    SourceAnswer,
    SourcesAnswer,
    StatusAnswer,
    TimelineAnswer,
)
from bot.engine.commands import Command

TIMEOUT = 180.0


class PlaceQuestion(StrEnum):
    """What a button asks the engine about a place. The value is part of the button's custom id
    (``follow:sources-of:mosul``), which Discord sends back when it is pressed."""

    STATUS = "status"
    TIMELINE = "timeline"
    SOURCES = "sources-of"


AnswerFn = Callable[[PlaceQuestion, str, int], Awaitable[Answer]]
"""(question, place id, guild id) -> Answer: how a button asks the engine."""
Present = Callable[[discord.Interaction, Answer, bool], Awaitable[None]]
"""Sends an answer in reply to a button press: (interaction, answer, edit_in_place)."""


class OwnedView(discord.ui.View):
    """A view whose buttons only its owner may press; removed from the message on timeout."""

    message: discord.Message | None = None

    def __init__(self, owner_id: int, *, timeout: float = TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "These buttons belong to whoever asked. Ask your own question to get your own.",
            ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        if self.message is not None:
            # the message may be gone or no longer ours to edit: then there is nothing to remove
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=None)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        from bot.discord.errors import log_and_reply

        await log_and_reply(interaction, error)


class Paginator(OwnedView):
    """◀ page/N ▶ over a list of embeds, plus any extra buttons a subclass adds."""

    def __init__(self, pages: list[discord.Embed], owner_id: int) -> None:
        super().__init__(owner_id)
        self.pages = pages
        self.index = 0
        if len(pages) <= 1:
            self.remove_item(self.previous)
            self.remove_item(self.counter)
            self.remove_item(self.next)
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1
        self.counter.label = f"{self.index + 1}/{len(self.pages)}"

    async def _show(self, interaction: discord.Interaction) -> None:
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary, custom_id="page:prev")
    async def previous(self, interaction: discord.Interaction,
                       button: discord.ui.Button[Paginator]) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True,
                       custom_id="page:count")
    async def counter(self, interaction: discord.Interaction,
                      button: discord.ui.Button[Paginator]) -> None:
        await interaction.response.defer()

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary, custom_id="page:next")
    async def next(self, interaction: discord.Interaction,
                   button: discord.ui.Button[Paginator]) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)

    @property
    def needed(self) -> bool:
        return len(self.children) > 0


class FollowUpButton(discord.ui.Button["AnswerView"]):
    """"Timeline" or "Sources" under a status reply: answers privately for whoever presses it."""

    def __init__(self, label: str, question: PlaceQuestion, place_id: str, row: int = 1) -> None:
        super().__init__(label=label, style=discord.ButtonStyle.primary, row=row,
                         custom_id=f"follow:{question}:{place_id}"[:100])
        self.question = question
        self.place_id = place_id

    async def callback(self, interaction: discord.Interaction) -> None:
        view = self.view
        assert view is not None
        answer = await view.ask(self.question, self.place_id, interaction.guild_id or 0)
        await view.present(interaction, answer, False)


class SuggestionButton(discord.ui.Button["AnswerView"]):
    """One "did you mean" choice: pressing it answers the original command for that place."""

    def __init__(self, question: PlaceQuestion, place: PlaceRef, index: int) -> None:
        super().__init__(label=place.name[:80], style=discord.ButtonStyle.secondary,
                         custom_id=f"pick:{index}:{place.id}"[:100], row=index // 5)
        self.question = question
        self.place_id = place.id

    async def callback(self, interaction: discord.Interaction) -> None:
        view = self.view
        assert view is not None
        answer = await view.ask(self.question, self.place_id, interaction.guild_id or 0)
        await view.present(interaction, answer, interaction.user.id == view.owner_id)


_ASK_AGAIN = {Command.STATUS: PlaceQuestion.STATUS, Command.TIMELINE: PlaceQuestion.TIMELINE}
"""A failed status or timeline offers its suggestions as buttons that ask it again."""
_PICKABLE = {ErrorCode.UNKNOWN_PLACE, ErrorCode.AMBIGUOUS, ErrorCode.NOT_A_PLACE}


class AnswerView(Paginator):
    """Everything under one reply: page buttons, then status follow-ups or suggestions.

    Follow-ups and suggestions may be pressed by anyone (the answer goes privately to whoever
    pressed, or replaces the message for the person who asked); the page buttons only by the owner."""

    def __init__(self, answer: Answer, pages: list[discord.Embed], owner_id: int,
                 ask: AnswerFn, present: Present) -> None:
        super().__init__(pages, owner_id)
        self.ask = ask
        self.present = present
        match answer:
            case StatusAnswer():
                self.add_item(FollowUpButton("Timeline", PlaceQuestion.TIMELINE, answer.place.id))
                self.add_item(FollowUpButton("Sources", PlaceQuestion.SOURCES, answer.place.id))
            case FailureAnswer():
                again = _ASK_AGAIN.get(answer.command) if answer.command else None
                if again and answer.error in _PICKABLE:
                    for i, place in enumerate(answer.suggestions[:5]):
                        self.add_item(SuggestionButton(again, place, i + 5))
            case (TimelineAnswer() | SearchAnswer() | SourcesAnswer() | PlaceSourcesAnswer()
                  | SourceAnswer() | PlacesAnswer() | HelpAnswer()):
                pass  # page buttons only
            case _:
                assert_never(answer)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        data = cast(dict[str, Any], interaction.data or {})
        custom_id = data.get("custom_id", "")
        if isinstance(custom_id, str) and custom_id.startswith(("follow:", "pick:")):
            return True
        return await super().interaction_check(interaction)
