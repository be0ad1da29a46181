"""The command line: ``sitrep ask`` as text and as the JSON contract, and the piped console."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from tests.conftest import FIXTURE_DATA, ROOT

CONTRACT_KEYS = {"command", "query", "place", "as_of", "headline", "facts", "suggestions",
                 "message", "error"}
FACT_KEYS = {"id", "summary", "quote", "status", "attribution", "hedged", "event_date", "source"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"SITREP_DATABASE": str(tmp_path / "cli.db"), "SITREP_DATA_DIR": str(FIXTURE_DATA)}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SITREP_DISCORD_TOKEN", raising=False)
    return values


def test_ask_json_follows_the_contract(env: dict[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "!status Mosul", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == CONTRACT_KEYS
    assert out["place"] == {"id": "mosul", "name": "Mosul", "country": "IQ"}
    assert out["as_of"] == "2019-07-09" and out["error"] is None
    assert out["facts"] and all(set(f) == FACT_KEYS for f in out["facts"])
    first = out["facts"][0]
    assert set(first["event_date"]) == {"start", "end", "precision", "label"}
    assert set(first["source"]) == {"id", "outlet", "title", "published"}
    assert first["quote"] == "the liberation of Mosul, ISIS’ former de facto capital"


def test_ask_json_for_unknown_place_and_usage_error(env: dict[str, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "!status Atlantis", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["place"] is None and out["error"] == "unknown_place" and out["facts"] == []
    assert main(["ask", "!frobnicate", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "bad_input"


def test_ask_text_reads_like_the_design(env: dict[str, str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "!timeline Mosul"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Mosul · Iraq, Nineveh · as of 9 Jul 2019")
    assert "29 Oct 2016" in out and "by Mar 2017" in out
    assert "[2] The Duran (Alexander Mercouris, opinion), c. 10 Mar 2017" in out


def test_console_reads_piped_stdin_line_by_line(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input="!status Mosul\nstatus Kirkuk\n",
        capture_output=True, text=True, timeout=180, env={**os.environ, **env}, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Recaptured: Mosul" in proc.stdout
    assert "Kirkuk" in proc.stdout and "no facts" in proc.stdout


def test_run_without_token_is_the_console(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"], input="!status Raqqa\n", capture_output=True,
        text=True, timeout=180, env={**os.environ, **env}, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Surrounded" in proc.stdout
