"""Gateway transport: one websocket connection with Discord's transport compression, and the
resumable session it belongs to.

discord.py connects with ``?v=10&encoding=json&compress=zlib-stream`` (``zstd-stream`` when
``zstandard`` is installed). With ``zlib-stream`` every message is compressed by one zlib
stream per connection and flushed with ``Z_SYNC_FLUSH``, so each binary frame ends with
``00 00 ff ff``; the client keeps one decompressor for the whole connection. Without
``compress`` messages are sent as text frames.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from .models import JSON, OP_DISPATCH

REPLAY_BUFFER_MAX = 10_000
"""Events kept per session for RESUME replay."""


class Compressor(Protocol):
    """Turns one gateway message into the bytes of one binary frame."""

    def compress(self, data: bytes) -> bytes: ...


class ZlibStreamCompressor:
    """``zlib-stream``: one deflate stream per connection, each message sync-flushed."""

    def __init__(self) -> None:
        self._ctx = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        """Compress one message; the result ends with the ``00 00 ff ff`` sync marker."""
        return self._ctx.compress(data) + self._ctx.flush(zlib.Z_SYNC_FLUSH)


class ZstdStreamCompressor:
    """``zstd-stream``: one zstd stream per connection, each message block-flushed.

    Only available when the ``zstandard`` package is installed (as it then is for discord.py).
    """

    def __init__(self) -> None:
        import zstandard  # type: ignore[import-not-found]  # optional, as in discord.py

        self._zstd: Any = zstandard
        self._ctx: Any = zstandard.ZstdCompressor().compressobj()

    def compress(self, data: bytes) -> bytes:
        """Compress one message and flush the block so the client can decode it at once."""
        out: bytes = self._ctx.compress(data) + self._ctx.flush(self._zstd.COMPRESSOBJ_FLUSH_BLOCK)
        return out


def make_compressor(kind: str | None) -> Compressor | None:
    """The compressor for a ``compress=`` query value (None: send text frames).

    Raises ValueError for a kind the fake cannot produce.
    """
    if not kind:
        return None
    if kind == "zlib-stream":
        return ZlibStreamCompressor()
    if kind == "zstd-stream":
        try:
            return ZstdStreamCompressor()
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ValueError("zstd-stream needs the zstandard package") from exc
    raise ValueError(f"unknown compression {kind!r}")


def client_tag(request: web.Request) -> str | None:
    """The ``{tag}`` of a ``/c/{tag}/...`` URL: which client process sent a request.

    Every shard of a bot uses the same token, so the fake cannot tell two bot processes apart
    by what Discord sees. A process started with tagged URLs (``FakeDiscord.launch_command``)
    sends its tag with every REST request and gateway connection instead.
    """
    return request.match_info.get("tag")


def peer_of(request: web.Request) -> str | None:
    """The client's ``host:port`` (the port tells TCP connections of one process apart)."""
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return request.remote


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection from a client."""

    ws: web.WebSocketResponse
    request: web.Request
    compressor: Compressor | None
    session: GatewaySession | None = None
    closed_by_server: bool = False
    sent: int = 0
    received: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def client_tag(self) -> str | None:
        """The tag in the URL the client connected to (``/c/{tag}/gateway``), if any."""
        return client_tag(self.request)

    @property
    def peer(self) -> str | None:
        """The client's ``host:port``."""
        return peer_of(self.request)

    async def send(self, message: JSON) -> bool:
        """Send one gateway message; False if the socket is already closed.

        A lock keeps compression order equal to wire order when several tasks send at once.
        """
        raw = json.dumps(message, separators=(",", ":")).encode()
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                if self.compressor is None:
                    await self.ws.send_str(raw.decode())
                else:
                    await self.ws.send_bytes(self.compressor.compress(raw))
            except (ConnectionError, RuntimeError):
                return False
            self.sent += 1
            return True

    async def close(self, code: int | None) -> None:
        """Close from the server side: with a close code, or (None) by dropping the TCP link."""
        self.closed_by_server = True
        if code is None:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            return
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=b"fake discord"), 5.0)
        except (TimeoutError, ConnectionError, RuntimeError):
            transport = self.request.transport
            if transport is not None:
                transport.abort()


@dataclass(eq=False)
class GatewaySession:
    """A session made by IDENTIFY; survives disconnects so the client can RESUME it."""

    identify: JSON
    intents: int
    shard: tuple[int, int]
    client_tag: str | None = None
    """The URL tag of the connection that identified (see :func:`client_tag`)."""
    peer: str | None = None
    """``host:port`` of the connection that identified."""
    identified_at: float = 0.0
    """Event-loop (monotonic) time of the IDENTIFY."""
    ready: bool = False
    """READY and every GUILD_CREATE have been sent: events sent from now on reach the client
    after its guild cache is filled."""
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    buffer: list[JSON] = field(default_factory=list)
    connection: GatewayConnection | None = None
    invalid: bool = False
    """Ended: closed by the client with 1000/1001, or invalidated by the server."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard_id(self) -> int:
        """The shard number (0 for a client that did not send ``shard``)."""
        return self.shard[0]

    @property
    def connected(self) -> bool:
        """Whether the session has an open connection now."""
        return self.connection is not None

    @property
    def token(self) -> str:
        """The token the session identified with."""
        return str(self.identify.get("token") or "")

    def handles_guild(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events for a guild (DMs go to shard 0)."""
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % max(shard_count, 1) == shard_id

    def next_event(self, event: str, data: JSON) -> JSON:
        """Number a dispatch and remember it for RESUME (call with :attr:`lock` held)."""
        self.seq += 1
        message = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(message)
        if len(self.buffer) > REPLAY_BUFFER_MAX:
            del self.buffer[: len(self.buffer) - REPLAY_BUFFER_MAX]
        return message

    def missed_since(self, seq: int) -> list[JSON] | None:
        """Events after ``seq`` for a RESUME, or None if some were dropped from the buffer."""
        if seq > self.seq:
            return None
        if self.buffer and int(self.buffer[0]["s"]) > seq + 1:
            return None
        return [m for m in self.buffer if int(m["s"]) > seq]
