"""Discord forms for moderators: a modal for long text, and the review card's buttons.

The slash versions of ``fact add``, ``fact edit`` and ``ingest`` open a modal when the long fields
were not given as options; the review card carries Approve, Edit and Reject. Both only collect
input: the moderation service checks and applies it, and any refusal becomes a private reply
through the shared error handler.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.config import Settings
from bot.discord.checks import is_moderator, who_may
from bot.discord.errors import log_and_reply

MODAL_TIMEOUT = 900.0
REVIEW_TIMEOUT = 900.0
Submit = Callable[[discord.Interaction, dict[str, str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    default: str | None = None
    long: bool = False
    required: bool = False
    max_length: int = 300
    placeholder: str | None = None


class Form(discord.ui.Modal):
    """A modal of up to five text fields; ``submit`` gets their values by key."""

    def __init__(self, title: str, fields: list[Field], submit: Submit, custom_id: str) -> None:
        super().__init__(title=title[:45], timeout=MODAL_TIMEOUT, custom_id=custom_id)
        self._submit = submit
        for field in fields[:5]:
            default = (field.default or "")[:field.max_length] or None
            self.add_item(discord.ui.TextInput(
                label=field.label[:45], custom_id=field.key, default=default,
                style=discord.TextStyle.paragraph if field.long else discord.TextStyle.short,
                required=field.required, max_length=min(field.max_length, 4000),
                placeholder=(field.placeholder or "")[:100] or None))

    def values(self) -> dict[str, str]:
        return {item.custom_id: item.value for item in self.children
                if isinstance(item, discord.ui.TextInput)}

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.values())

    async def on_error(self, interaction: discord.Interaction,  # type: ignore[override]
                       error: Exception) -> None:
        await log_and_reply(interaction, error, saving=True)  # forms and reviews change the store


Decide = Callable[[discord.Interaction, int, str], Awaitable[None]]
"""(interaction, candidate id, "approve" | "edit" | "reject")."""


class ReviewView(discord.ui.View):
    """Approve / Edit / Reject under a review card; any moderator of the server may press them
    (reviewing is shared work), nobody else."""

    message: discord.Message | None = None

    def __init__(self, candidate_id: int, decide: Decide, settings: Settings) -> None:
        super().__init__(timeout=REVIEW_TIMEOUT)
        self.candidate_id = candidate_id
        self._decide = decide
        self._settings = settings
        for action, style in (("approve", discord.ButtonStyle.success),
                              ("edit", discord.ButtonStyle.primary),
                              ("reject", discord.ButtonStyle.danger)):
            self.add_item(DecisionButton(action, style, candidate_id))

    async def decide(self, interaction: discord.Interaction, action: str) -> None:
        await self._decide(interaction, self.candidate_id, action)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if is_moderator(interaction.user, self._settings):
            return True
        await interaction.response.send_message(f"Only {who_may(self._settings)} can review.",
                                                ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):  # gone, or no longer ours to edit
                await self.message.edit(view=None)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        await log_and_reply(interaction, error, saving=True)  # forms and reviews change the store


class DecisionButton(discord.ui.Button[ReviewView]):
    def __init__(self, action: str, style: discord.ButtonStyle, candidate_id: int) -> None:
        super().__init__(label=action.capitalize(), style=style,
                         custom_id=f"review:{action}:{candidate_id}")
        self.action = action

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.decide(interaction, self.action)
