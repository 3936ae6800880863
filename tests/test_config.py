"""Config parsing: defaults, validation messages, rendering round trip."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from assistant_app.core.config import Config, load_config, parse_config, render_config
from assistant_app.core.errors import ConfigError


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()


def test_values_are_read_and_ints_widen_to_float(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[llm]\nthreads = 1\ntemperature = 0\n[stt]\nengine = "openai-whisper"\n')
    config = load_config(path)
    assert config.llm.threads == 1
    assert config.llm.temperature == 0.0 and isinstance(config.llm.temperature, float)
    assert config.stt.engine == "openai-whisper"
    assert config.tts == Config().tts


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"stt": {"modle": "whisper-base"}}, source="c.toml")
    message = str(err.value)
    assert "unknown key 'modle' in [stt]" in message
    assert "model" in message and "beam_size" in message


def test_unknown_section_lists_sections() -> None:
    with pytest.raises(ConfigError, match="Valid sections: .*llm.*stt"):
        parse_config({"speech": {}})


def test_unknown_engine_lists_engines() -> None:
    with pytest.raises(ConfigError, match="Valid engines: faster-whisper, openai-whisper"):
        parse_config({"stt": {"engine": "whisper.cpp"}})


def test_wrong_type_is_named() -> None:
    with pytest.raises(ConfigError, match=r"\[llm\] threads must be a int"):
        parse_config({"llm": {"threads": "two"}})
    with pytest.raises(ConfigError, match="must be a int"):
        parse_config({"llm": {"threads": True}})


def test_broken_toml_says_how_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[llm\nthreads = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML.*defaults"):
        load_config(path)


def test_rendered_config_parses_back_and_documents_every_field() -> None:
    changed = Config().replace("llm", threads=1, system_prompt='Say "hi"\\n')
    text = render_config(changed)
    assert parse_config(tomllib.loads(text)) == changed
    settings = [ln for ln in text.splitlines() if " = " in ln and not ln.startswith("#")]
    comments = [ln for ln in text.splitlines() if ln.startswith("# ") and len(ln) > 4]
    assert len(comments) == len(settings)


def test_models_dir_accepts_the_folder_models_list_prints(tmp_path: Path) -> None:
    from assistant_app.core.config import models_dir
    from models.store import ModelStore

    printed = tmp_path / "data" / "models"  # what `assistant models list` shows
    config = Config().replace("models", dir=str(printed))
    assert models_dir(config) == tmp_path / "data"
    assert ModelStore(models_dir(config)).model_dir("silero-vad") == printed / "silero-vad"
    holder = tmp_path / "elsewhere"  # the folder that holds models/
    assert models_dir(Config().replace("models", dir=str(holder))) == holder
    nested = tmp_path / "old" / "models"
    (nested / "models").mkdir(parents=True)  # a store made there before: keep using it
    assert models_dir(Config().replace("models", dir=str(nested))) == nested
