"""Real bot processes against an in-test :class:`FakeDiscord`: ``sitrep run`` in a subprocess.

    async with fake_discord(guilds=4, shard_count=2) as server:
        env = server.launch_env(TOKEN, database=store_copy)
        async with bot_process(server, "run", env=env, tag="p0") as bot:
            await server.send_message(server.channel_id, server.member_id, "!status Mosul")
            reply = await server.wait_for_message(server.channel_id)
            assert server.sent_by(reply) == "p0"

The process's URLs carry its tag, so every REST request (``RecordedRequest.client_tag``),
gateway session (``GatewaySession.client_tag``) and bot message (``FakeDiscord.sent_by``) says
which process it came from. The process is always stopped on exit (SIGTERM, then SIGKILL), and
its output (stdout and stderr together) is attached to a failing test's exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from .gateway import GatewaySession
from .patching import PROJECT_ROOT
from .server import FakeDiscord


class BotProcessDied(RuntimeError):
    """The bot process exited while a test waited for it."""


@dataclass
class BotProcess:
    """A running bot process and what it printed."""

    proc: asyncio.subprocess.Process
    tag: str
    _output: IO[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """None while it runs."""
        return self.proc.returncode

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        self._output.flush()
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    async def wait_ready(
        self,
        server: FakeDiscord,
        shards: Sequence[int] = (0,),
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> list[GatewaySession]:
        """Wait until this process has a ready session for each of ``shards``; fails at once,
        with the process's output, if the process exits first."""

        def ready() -> list[GatewaySession] | None:
            if self.proc.returncode is not None:
                raise BotProcessDied(
                    f"bot process {self.tag!r} exited with {self.proc.returncode}:\n"
                    + self.output()
                )
            sessions = server.sessions_by_shard()
            found = [sessions.get(shard) for shard in shards]
            if all(s is not None and s.ready and s.client_tag == self.tag for s in found):
                return [s for s in found if s is not None]
            return None

        return await server.signal.wait_for(ready, timeout, f"bot process {self.tag!r} ready")

    async def stop(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """SIGTERM (sitrep closes its gateway and store), then SIGKILL after ``timeout``."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode if self.proc.returncode is not None else -1


@contextlib.asynccontextmanager
async def bot_process(
    server: FakeDiscord,
    *sitrep_args: str,
    env: Mapping[str, str],
    tag: str = "bot",
    shards: Sequence[int] | None = (0,),
    ready_timeout: float = 30.0,
    cwd: str | os.PathLike[str] = PROJECT_ROOT,
) -> AsyncIterator[BotProcess]:
    """Start ``sitrep *sitrep_args`` (e.g. ``"run"``) against ``server`` as client ``tag``.

    ``env`` usually comes from :meth:`FakeDiscord.launch_env`; ``cwd`` is where it runs (sitrep
    reads a ``.env`` there, so tests pass an empty temporary directory). With ``shards``
    (default: shard 0) this waits until the process holds a ready session for each; None
    returns at once. On exit the process is stopped (and killed if need be) and its output
    file closed.
    """
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    try:
        proc = await asyncio.create_subprocess_exec(
            *server.launch_command(*sitrep_args, tag=tag),
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
        bot = BotProcess(proc, tag, output)
        try:
            if shards is not None:
                await bot.wait_ready(server, shards, ready_timeout)
            yield bot
        except BaseException as exc:
            await bot.stop()
            exc.add_note(f"--- output of bot process {tag!r} ---\n{bot.output()}")
            raise
        finally:
            await bot.stop()
    finally:
        output.close()
