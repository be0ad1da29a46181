"""What the fake Discord records: REST requests, injected failures and interactions.

Tests read these records to assert on what the bot did; the awaitable helpers wait on a
:class:`Signal` that the server fires after every change, so no test needs to sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .models import JSON, MESSAGE_FLAG_EPHEMERAL, MESSAGE_FLAG_LOADING

T = TypeVar("T")

# Interaction types (what Discord sends) and callback types (what the bot answers).
INTERACTION_PING = 1
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5

CALLBACK_PONG = 1
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9


class Signal:
    """Wakes every waiter whenever :meth:`fire` is called; waiters re-check a predicate."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def fire(self) -> None:
        """Something changed: wake all current waiters."""
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        what: str,
        poll: float = 0.01,
    ) -> T:
        """Wait until ``predicate()`` returns something other than None/False and return it.

        The predicate is re-checked whenever the signal fires, and every ``poll`` seconds in
        any case, so it may also look at state the server does not own (e.g. the bot's).
        Raises :class:`TimeoutError` naming ``what`` after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fake Discord: timed out after {timeout:g}s waiting for {what}")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, min(remaining, poll))


@dataclass
class RecordedFile:
    """A file uploaded in a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request as the fake server saw it, and how it answered."""

    index: int
    """Position in ``FakeDiscord.requests``."""
    method: str
    path: str
    """The path below ``/api/v10``, e.g. ``/channels/123/messages``."""
    query: dict[str, str]
    headers: dict[str, str]
    """Request headers, without ``Authorization`` (see :attr:`authorized`)."""
    authorized: bool
    """Whether an ``Authorization`` header was sent."""
    json: Any = None
    """The JSON body, or the parsed ``payload_json`` of a multipart body."""
    files: list[RecordedFile] = field(default_factory=list)
    at: float = 0.0
    """Event-loop time at which the request arrived."""
    status: int | None = None
    """The status the fake answered with (None while the request is being handled)."""
    response: Any = None
    """The decoded JSON the fake answered with (None for empty bodies)."""
    injected: bool = False
    """Whether the answer was an injected failure (see ``FakeDiscord.fail_next``)."""
    client_tag: str | None = None
    """The tag of a ``/c/{tag}/api/v10`` URL: which bot process sent it (None if untagged)."""
    peer: str | None = None
    """The client's ``host:port``."""

    @property
    def reason(self) -> str | None:
        """The audit-log reason, if the bot gave one."""
        return self.headers.get("X-Audit-Log-Reason")

    def matches(self, method: str, path_regex: str) -> bool:
        """Whether ``method`` equals and ``path_regex`` fully matches this request's path."""
        return self.method == method.upper() and re.fullmatch(path_regex, self.path) is not None


@dataclass
class FailureRule:
    """An injected failure: the next ``times`` requests matching are answered with ``status``."""

    method: str
    path_regex: str
    status: int
    times: int
    retry_after: float
    is_global: bool = False
    body: JSON | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule still applies to a request."""
        return (
            self.hits < self.times
            and self.method == method.upper()
            and re.fullmatch(self.path_regex, path) is not None
        )


@dataclass(frozen=True)
class Delivery:
    """One session an event was sent to (or queued for, while it waits to RESUME)."""

    session_id: str
    shard: tuple[int, int]
    client_tag: str | None
    queued: bool = False
    """The session had no open connection: the event waits in its buffer for a RESUME."""


@dataclass
class DispatchRecord:
    """A gateway event the fake dispatched, and which sessions it went to.

    ``deliveries`` is empty when no live session holds the event's shard (the event is lost,
    as on Discord) or when the session holding it lacks the event's intent.
    """

    event: str
    guild_id: int | None
    """None for direct messages (shard 0's)."""
    deliveries: list[Delivery]
    at: float

    @property
    def shards(self) -> list[int]:
        """The shard ids the event was delivered to."""
        return [d.shard[0] for d in self.deliveries]

    @property
    def client_tags(self) -> list[str | None]:
        """The client tags of the sessions the event was delivered to."""
        return [d.client_tag for d in self.deliveries]


@dataclass(frozen=True)
class IdentifyRecord:
    """One IDENTIFY that started a session, for checking the clients' identify pacing."""

    at: float
    """Event-loop (monotonic) time."""
    shard: tuple[int, int]
    bucket: int
    """The rate-limit bucket: ``shard_id % max_concurrency``."""
    session_id: str
    client_tag: str | None
    too_fast: bool = False
    """Another IDENTIFY of the same bucket came less than the identify window before."""


@dataclass
class InteractionRecord:
    """An interaction the fake dispatched and everything the bot did in response to it.

    ``callback_*`` describe the initial response (``POST /interactions/{id}/{token}/callback``);
    ``original`` is the current state of the ``@original`` response message; ``followups`` are
    the messages sent with ``POST /webhooks/{app_id}/{token}``.
    """

    id: int
    token: str
    type: int
    name: str
    """Command name, or the component's / modal's custom_id."""
    payload: JSON
    """The INTERACTION_CREATE payload as dispatched."""
    user_id: int
    guild_id: int | None
    channel_id: int
    dispatched_at: float
    signal: Signal = field(repr=False)
    callback_type: int | None = None
    callback_data: JSON | None = None
    callback_at: float | None = None
    callback_attempts: int = 0
    """Callbacks received, including rejected ones (late or duplicate)."""
    rejected_callbacks: list[tuple[int, str]] = field(default_factory=list)
    """(status, message) of callbacks the fake refused, e.g. after the 3-second deadline."""
    original: JSON | None = None
    original_edits: list[JSON] = field(default_factory=list)
    """The bodies of every PATCH to ``@original`` (and UPDATE_MESSAGE callbacks)."""
    followups: list[JSON] = field(default_factory=list)
    original_deleted: bool = False
    delivery: Delivery | None = None
    """The session the INTERACTION_CREATE went to (None: no session held its shard)."""
    undelivered: bool = False
    """No live session held the interaction's shard: no bot can answer it."""
    callback_request: RecordedRequest | None = None
    """The REST request whose callback the fake accepted (its ``client_tag`` names the bot
    process that answered)."""

    # -- convenience views -----------------------------------------------------------------
    @property
    def answered_by(self) -> str | None:
        """The client tag of the process that acknowledged the interaction, if tagged."""
        return self.callback_request.client_tag if self.callback_request is not None else None

    @property
    def responded(self) -> bool:
        """Whether the bot acknowledged the interaction."""
        return self.callback_type is not None

    @property
    def latency(self) -> float | None:
        """Seconds from dispatching the interaction to the callback arriving."""
        if self.callback_at is None:
            return None
        return self.callback_at - self.dispatched_at

    @property
    def deferred(self) -> bool:
        """Whether the initial response was a defer (types 5 or 6)."""
        return self.callback_type in (
            CALLBACK_DEFERRED_CHANNEL_MESSAGE,
            CALLBACK_DEFERRED_UPDATE_MESSAGE,
        )

    @property
    def flags(self) -> int:
        """Message flags of the response (from the original message or the callback data)."""
        if self.original is not None:
            return int(self.original.get("flags") or 0)
        return int((self.callback_data or {}).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether the response is ephemeral (flag 64)."""
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def content(self) -> str | None:
        """The content of the response message as it stands now."""
        if self.original is not None:
            return str(self.original.get("content") or "")
        if self.callback_data is not None and "content" in self.callback_data:
            return str(self.callback_data.get("content") or "")
        return None

    @property
    def embeds(self) -> list[JSON]:
        """The embeds of the response message as it stands now."""
        if self.original is not None:
            return list(self.original.get("embeds") or [])
        return list((self.callback_data or {}).get("embeds") or [])

    @property
    def components(self) -> list[JSON]:
        """The components of the response message as it stands now."""
        if self.original is not None:
            return list(self.original.get("components") or [])
        return list((self.callback_data or {}).get("components") or [])

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices, when the callback was an AUTOCOMPLETE_RESULT."""
        if self.callback_type != CALLBACK_AUTOCOMPLETE_RESULT or self.callback_data is None:
            return None
        return list(self.callback_data.get("choices") or [])

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback type 9), if any."""
        if self.callback_type != CALLBACK_MODAL:
            return None
        return self.callback_data

    @property
    def messages(self) -> list[JSON]:
        """The original response message (if any) followed by the followups."""
        return ([self.original] if self.original is not None else []) + list(self.followups)

    # -- waiting ----------------------------------------------------------------------------
    async def wait_callback(self, timeout: float = 5.0) -> InteractionRecord:  # noqa: ASYNC109
        """Wait until the bot has acknowledged the interaction.

        Raises :class:`RuntimeError` at once if the interaction reached no session.
        """
        if self.undelivered:
            raise RuntimeError(
                f"interaction {self.name!r} reached no gateway session: no live session holds "
                f"the shard of guild {self.guild_id}"
            )
        await self.signal.wait_for(
            lambda: self.responded, timeout, f"a callback to interaction {self.name!r}"
        )
        return self

    async def wait_original(self, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait until the response message exists and is no longer "thinking"."""

        def ready() -> JSON | None:
            msg = self.original
            if msg is None or int(msg.get("flags") or 0) & MESSAGE_FLAG_LOADING:
                return None
            return msg

        return await self.signal.wait_for(ready, timeout, f"the response to {self.name!r}")

    async def wait_followup(self, count: int = 1, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait until at least ``count`` followups exist and return the ``count``-th."""
        return await self.signal.wait_for(
            lambda: self.followups[count - 1] if len(self.followups) >= count else None,
            timeout,
            f"followup #{count} to {self.name!r}",
        )

    async def wait_for(
        self,
        predicate: Callable[[InteractionRecord], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """Wait until ``predicate(self)`` is true."""
        await self.signal.wait_for(lambda: predicate(self), timeout, f"a change to {self.name!r}")
        return self
