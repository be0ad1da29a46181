from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import SettingsError, load_settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITREP_PREFIX", "?")
    monkeypatch.setenv("SITREP_LOG_LEVEL", "debug")
    monkeypatch.setenv("SITREP_DATABASE", str(tmp_path / "x.db"))
    settings = load_settings()
    assert (settings.prefix, settings.log_level, settings.database) == (
        "?", "DEBUG", tmp_path / "x.db")
    assert not settings.has_token


def test_token_is_secret_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITREP_DISCORD_TOKEN", "MTIz.secret-token-value")
    settings = load_settings()
    assert settings.has_token
    assert "secret-token-value" not in repr(settings)
    assert "secret-token-value" not in str(settings.model_dump())


def test_token_from_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("abc.def\n")
    assert load_settings(discord_token_file=secret).discord_token is not None
    with pytest.raises(SettingsError, match="SITREP_DISCORD_TOKEN_FILE"):
        load_settings(discord_token_file=tmp_path / "missing")


def test_keyword_settings_for_code() -> None:
    settings = load_settings(discord_token="t.o.k", prefix="$", database=Path("/tmp/s.db"))
    assert settings.prefix == "$" and settings.has_token


@pytest.mark.parametrize(("var", "value"), [("SITREP_LOG_LEVEL", "chatty"),
                                            ("SITREP_PREFIX", "! !"),
                                            ("SITREP_STALE_AFTER_DAYS", "soon")])
def test_invalid_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    assert main(["check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert var in err and "Traceback" not in err


def test_blank_token_does_not_hide_the_token_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "token"
    secret.write_text("from.the.file\n")
    monkeypatch.setenv("SITREP_DISCORD_TOKEN", "")
    monkeypatch.setenv("SITREP_DISCORD_TOKEN_FILE", str(secret))
    settings = load_settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "from.the.file"


@pytest.mark.parametrize("value", ["bogus", "Manage Server"])
def test_an_unknown_moderator_permission_stops_the_bot_with_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        value: str) -> None:
    """The form is checked with the other settings; whether Discord has the permission is checked
    by the Discord front end before anything is opened."""
    monkeypatch.setenv("SITREP_DISCORD_TOKEN", "MTIz.secret-token-value")
    monkeypatch.setenv("SITREP_MODERATOR_PERMISSION", value)
    monkeypatch.setenv("SITREP_DATABASE", str(tmp_path / "never-built.db"))
    assert main(["bot"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "SITREP_MODERATOR_PERMISSION" in err
    assert "secret-token-value" not in err and "Traceback" not in err
    assert not (tmp_path / "never-built.db").exists()
