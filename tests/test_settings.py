"""Settings changes in the TOML config: validated, backed up, written atomically, kept comments."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from assistant_app.core.config import Config, load_config
from assistant_app.core.errors import ConfigError
from assistant_app.storage import settings
from assistant_app.storage.profiles import Profile, Profiles


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("ASSISTANT_CONFIG", str(path))
    return path


def test_a_change_is_written_and_read_back(cfg: Path) -> None:
    config = settings.update_config({"tts": {"speaking_rate": 1.25}, "vad": {"threshold": 0.6}})
    assert config.tts.speaking_rate == 1.25
    again = load_config()
    assert again.tts.speaking_rate == 1.25 and again.vad.threshold == 0.6
    assert again.llm == Config().llm  # untouched sections keep their defaults
    text = cfg.read_text(encoding="utf-8")
    assert "# 1.0 is normal speed" in text and "[llm]" not in text


def test_existing_keys_survive_and_the_old_file_is_backed_up(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[llm]\nthreads = 1\nsystem_prompt = "Line one\\nsays \\"hi\\""\n')
    before = cfg.read_text()
    settings.update_config({"llm": {"think_samples": 3}})
    config = load_config()
    assert config.llm.threads == 1 and config.llm.think_samples == 3
    assert config.llm.system_prompt == 'Line one\nsays "hi"'
    assert (cfg.parent / "config.toml.bak").read_text() == before
    assert [p.name for p in cfg.parent.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"voice": {"echo_cancellation": "loud"}}, "Valid values: webrtc"),
        ({"vad": {"threshold": 1.5}}, "out of range"),
        ({"llm": {"think_samples": "many"}}, "must be a int"),
        ({"stt": {"model": "whisper-huge"}}, "Valid models: whisper-base"),
        ({"tts": {"engine": "sam"}}, "Valid engines"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_written(
    cfg: Path, changes: dict, words: str
) -> None:
    settings.update_config({"tts": {"speaking_rate": 1.1}})
    before = cfg.read_text()
    with pytest.raises(ConfigError, match=words):
        settings.update_config(changes)
    assert cfg.read_text() == before


def test_a_broken_file_is_not_overwritten(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[llm\nthreads = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        settings.update_config({"tts": {"speaking_rate": 1.1}})
    assert cfg.read_text() == "[llm\nthreads = 1\n"


def test_a_failed_write_leaves_the_old_file(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.update_config({"tts": {"speaking_rate": 1.1}})
    before = cfg.read_text()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        settings.update_config({"tts": {"speaking_rate": 1.3}})
    assert cfg.read_text() == before
    assert [p.name for p in cfg.parent.iterdir() if p.suffix == ".tmp"] == []


def test_diff_keeps_only_changed_values() -> None:
    old = Config()
    new = {"tts": {"speaking_rate": 1.0, "voice": "en-us"}, "vad": {"threshold": 0.5}}
    assert settings.diff(old, new) == {"tts": {"voice": "en-us"}}


def test_an_openai_server_may_name_any_model(cfg: Path) -> None:
    settings.update_config({"llm": {"engine": "openai", "server_url": "http://box:8000/v1"}})
    assert settings.update_config({"llm": {"model": "served-model"}}).llm.model == "served-model"
    assert tomllib.loads(cfg.read_text())["llm"]["model"] == "served-model"


def test_models_in_an_empty_store_are_absent(tmp_path: Path) -> None:
    config = Config().replace("models", dir=str(tmp_path / "store"))
    names = settings.catalog_names("stt")
    assert "whisper-base" in names
    states = settings.model_states(config, names)
    assert {s.state for s in states.values()} == {"absent"}
    assert states["whisper-base"].size > 0


def test_tool_rules_live_in_the_current_assistant(tmp_path: Path) -> None:
    profiles = Profiles(tmp_path)
    defaults = {"calculator": "allow", "python": "ask", "generate_image": "allow"}
    assert settings.tool_rules(profiles) == defaults
    profiles.save(Profile("Tutor", tools={"calculator": "ask"}))
    profiles.use("Tutor")
    settings.save_tool_rules(profiles, {"calculator": "allow", "python": "deny"})
    assert profiles.load("Tutor").tools == {"python": "deny"}  # a default rule is left out
    assert settings.tool_rules(profiles) == defaults | {"python": "deny"}
