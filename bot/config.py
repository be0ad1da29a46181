"""Settings, read from ``SITREP_*`` environment variables and an optional ``.env`` file.

Built on pydantic-settings so that every setting is typed and validated in one place; the Discord
token is a ``SecretStr`` so that it never appears in a repr, a log line or a traceback. Settings can
also be built in code with keyword arguments, which is how the tests and ``create_bot`` use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.shards import MAX_SHARDS, Shards, parse_ids

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Where seeds/ and data/ live: beside the package, in a checkout and in the container alike."""


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


URL_FORMS = "sqlite:///relative/file.db, sqlite:////absolute/file.db or postgresql://user@host:5432/db"


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """Where the store is: an SQLite file, or a PostgreSQL database. The password is kept apart
    from the URL and out of ``repr`` and ``str``, so that printing a location (in a log line, an
    error, a traceback) can never reveal it."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    dsn: str | None = None
    """The PostgreSQL URL without its password."""
    password: SecretStr | None = field(default=None, repr=False)

    @classmethod
    def sqlite(cls, path: Path) -> StoreLocation:
        return cls("sqlite", path=path)

    def __str__(self) -> str:
        return str(self.path) if self.kind == "sqlite" else str(self.dsn)


def parse_store_url(url: str, password: SecretStr | None = None) -> StoreLocation:
    """``SITREP_DATABASE_URL`` as a location. The error never repeats the URL: it may hold a
    password."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ValueError(f"not a URL: use {URL_FORMS}") from None
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise ValueError(f"an SQLite URL is sqlite:/// and a path: use {URL_FORMS}")
        return StoreLocation.sqlite(Path(unquote(parts.path[1:])))
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError(f"a PostgreSQL URL needs a host and a database: use {URL_FORMS}")
        if password is None and parts.password:
            password = SecretStr(unquote(parts.password))
        return StoreLocation("postgresql", dsn=_without_password(parts), password=password)
    kind = re.sub(r"[^A-Za-z0-9+.-]", "", parts.scheme)[:20] or "none"
    raise ValueError(f"unknown kind of store {kind!r}: use {URL_FORMS}")


def _without_password(parts: SplitResult) -> str:
    user = f"{parts.username}@" if parts.username else ""
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return SplitResult("postgresql", f"{user}{host}{port}", parts.path, parts.query, "").geturl()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SITREP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    discord_token: SecretStr | None = Field(default=None, repr=False)
    discord_token_file: Path | None = None
    database: Path = PROJECT_ROOT / "var" / "sitrep.db"
    """The SQLite file, when ``database_url`` is not set."""
    database_url: SecretStr | None = Field(default=None, repr=False)
    """``sqlite:///file`` or ``postgresql://user@host:port/db``; a secret, as it may hold a
    password."""
    database_password_file: Path | None = None
    """The PostgreSQL password, from a file (container secrets)."""
    _location: StoreLocation = PrivateAttr()
    data_dir: Path = PROJECT_ROOT / "data"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    shard_count: str = "auto"
    """How many shards the bot runs in all (every process the same number), or ``auto``: the
    count Discord recommends (``GET /gateway/bot``), for a single process only."""
    shard_ids: str = "all"
    """The shards this process holds: ``all``, or numbers and ranges (``0-3``, ``4,5``)."""
    _shards: Shards | None = PrivateAttr(default=None)
    query_budget: float = Field(default=2.0, gt=0, le=60)
    """Seconds an answer's query may take before the store stops it ("too many matches")."""
    prefix: str = Field(default="!", min_length=1, max_length=5)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    stale_after_days: int = Field(default=365, ge=1)
    message_content: bool = True
    """Ask for the privileged Message Content intent (needed for prefix commands in servers)."""
    user_rate: int = Field(default=5, ge=1)
    user_per: float = Field(default=20.0, gt=0)
    same_answer_seconds: float = Field(default=30.0, ge=0)
    sync_commands: bool = True
    heartbeat_file: Path | None = None
    """Where the running bot touches a heartbeat for ``sitrep health`` (containers)."""
    moderator_role: str | None = Field(default=None, max_length=100)
    """Members with this role (its name or id) may curate, besides ``moderator_permission``."""
    moderator_permission: str = "manage_guild"
    """The Discord permission that makes a member a moderator; also the slash commands' default
    permission, so that the two always agree."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("prefix")
    @classmethod
    def _no_space(cls, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise ValueError("the prefix may not contain spaces")
        return value

    @field_validator("moderator_permission")
    @classmethod
    def _permission_name(cls, value: str) -> str:
        """Only the form is checked here; whether Discord has such a permission is checked by
        the Discord front end when the bot starts (``bot.discord.app.check_settings``), so that
        the console and the CLI never import discord.py."""
        if not re.fullmatch(r"[a-z][a-z_]*", value):
            raise ValueError(f"not a Discord permission: {value!r} (e.g. manage_guild)")
        return value

    @field_validator("moderator_role", mode="before")
    @classmethod
    def _blank_role(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _token_from_file(self) -> Settings:
        """Container secrets arrive as files (``/run/secrets/...``): read the token from one."""
        if self.discord_token is not None and not self.discord_token.get_secret_value().strip():
            self.discord_token = None  # an empty SITREP_DISCORD_TOKEN= line in .env means unset
        if self.discord_token is None and self.discord_token_file is not None:
            try:
                text = self.discord_token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"cannot read the token file: {exc.strerror}") from None
            if not text:
                raise ValueError("the token file is empty")
            self.discord_token = SecretStr(text)
        return self

    @model_validator(mode="after")
    def _store_url(self) -> Settings:
        self._location = self._locate()
        return self

    @model_validator(mode="after")
    def _sharding(self) -> Settings:
        """Several processes share one store only on PostgreSQL: SQLite's file belongs to one
        process, so an SQLite bot holds every shard (one process, however many shards)."""
        count_text = self.shard_count.strip().lower()
        if count_text == "auto":
            if self.shard_ids.strip().lower() not in ("", "all"):
                raise ValueError("shard_ids: name the shards of a fixed SITREP_SHARD_COUNT "
                                 "(every process must agree on the count), not of auto")
            self._shards = None
            return self
        if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_SHARDS:
            raise ValueError(f"shard_count: {self.shard_count!r} is not auto or a number "
                             f"from 1 to {MAX_SHARDS}")
        try:
            self._shards = Shards(int(count_text), parse_ids(self.shard_ids, int(count_text)))
        except ValueError as exc:
            raise ValueError(f"shard_ids: {exc}") from None
        if not self._shards.holds_every and self._location.kind == "sqlite":
            raise ValueError(f"shard_ids: holding only shards {self._shards} needs several "
                             "processes, and they can share the store only on PostgreSQL "
                             "(set SITREP_DATABASE_URL=postgresql://...)")
        return self

    def _locate(self) -> StoreLocation:
        url = self.database_url.get_secret_value().strip() if self.database_url else ""
        if not url:
            return StoreLocation.sqlite(self.database)
        password = None
        if self.database_password_file is not None:
            try:
                text = self.database_password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"cannot read the password file: {exc.strerror}") from None
            password = SecretStr(text)
        try:
            return parse_store_url(url, password)
        except ValueError as exc:
            raise ValueError(f"database_url: {exc}") from None

    @property
    def store(self) -> StoreLocation:
        """Where the store is: ``SITREP_DATABASE_URL``, else the file ``SITREP_DATABASE``."""
        return self._location

    @property
    def shards(self) -> Shards | None:
        """The shards this process holds; None for ``auto`` (known once Discord says)."""
        return self._shards

    @property
    def has_token(self) -> bool:
        return self.discord_token is not None


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation error into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        loc = "_".join(str(part) for part in error["loc"])
        if not loc and "token file" in message:
            loc = "discord_token_file"
        if not loc and "password file" in message:
            loc = "database_password_file"
        named, _, rest = message.partition(": ")
        if not loc and rest and named in Settings.model_fields:  # a check across settings
            loc, message = named, rest
        name = f"SITREP_{loc.upper()}" if loc else "a SITREP_ setting"
        raise SettingsError(f"invalid {name}: {message}") from None
