"""Changing a few settings in the TOML config safely: validate, back up, write atomically."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from assistant_app.core.config import Config, config_path, load_config, parse_config
from assistant_app.core.errors import ConfigError
from assistant_app.storage.profiles import Profile, Profiles

Changes = Mapping[str, Mapping[str, Any]]  # section -> key -> new value
BACKUP_SUFFIX = ".bak"
HEADER = (
    "# The assistant's settings. Written by the settings dialog; the previous file is kept as\n"
    "# {backup}. Keys left out take their defaults (`assistant config show` prints them all).\n"
)

# Ranges the config parser does not check but the engines need (inclusive).
LIMITS: dict[tuple[str, str], tuple[float, float]] = {
    ("vad", "threshold"): (0.01, 0.99),
    ("vad", "end_of_turn_silence_ms"): (50, 5000),
    ("vad", "end_of_turn_cap_ms"): (500, 10000),
    ("tts", "speaking_rate"): (0.5, 2.0),
    ("llm", "think_samples"): (1, 32),
    ("llm", "think_budget_s"): (1.0, 3600.0),
}
# Settings that name a catalog model, with the role it must have; `True` allows "" (= fallback).
MODEL_FIELDS: dict[tuple[str, str], tuple[str, bool]] = {
    ("llm", "model"): ("llm", False),
    ("voice", "llm_model"): ("llm", True),
    ("stt", "model"): ("stt", False),
    ("voice", "stt_model"): ("stt", True),
    ("vad", "end_of_turn_model"): ("llm", False),
    ("sketch", "model"): ("llm", False),
    ("sketch", "vision_model"): ("vlm", True),
}
# A TTS engine and the catalog model it speaks with (espeak-ng is a system program).
TTS_MODELS = {"hibari": "hibari-heart", "piper": "piper-joe-medium", "espeak-ng": ""}


@dataclass(frozen=True)
class ModelState:
    """How a catalog model stands in the store, for a settings list."""

    name: str
    state: str  # "installed" | "absent" | "damaged"
    size: int  # bytes, from the catalog


def read_raw(path: Path | None = None) -> dict[str, Any]:
    """The config file as parsed TOML (empty when there is none); refuses a broken file."""
    path = path or config_path()
    if not path.exists():
        return {}
    load_config(path)  # the same readable errors as at start-up
    return tomllib.loads(path.read_text(encoding="utf-8"))


def validate(raw: dict[str, Any], changes: Changes, source: str) -> Config:
    """The Config `raw` makes, checked by the parser and by the limits of the changed keys."""
    config = parse_config(raw, source=source)
    for section, values in changes.items():
        for key, value in values.items():
            _check_limit(section, key, value, source)
            _check_model(config, section, key, value, source)
    return config


def update_config(changes: Changes, path: Path | None = None) -> Config:
    """Applies `changes` to the config file and returns the new Config.

    A refused value raises ConfigError with the parser's message and leaves the file untouched.
    The previous file is kept beside it (config.toml.bak); the new one replaces it atomically,
    so a crash leaves either the old file or the new one, never half of one.
    """
    path = path or config_path()
    raw = read_raw(path)
    for section, values in changes.items():
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(f"{path}: '{section}' must be a [{section}] section, not a value.")
        raw[section] = {**raw.get(section, {}), **values}
    config = validate(raw, changes, str(path))
    text = render_raw(raw, path.name + BACKUP_SUFFIX)
    if parse_config(tomllib.loads(text), source=str(path)) != config:  # never write a surprise
        raise ConfigError(f"{path}: the new settings did not survive a round trip; not written.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        _write_atomically(path.with_name(path.name + BACKUP_SUFFIX), path.read_bytes())
    _write_atomically(path, text.encode("utf-8"))
    return config


def render_raw(raw: Mapping[str, Mapping[str, Any]], backup_name: str = "") -> str:
    """The keys set in `raw` as TOML, each with its comment, sections in the usual order."""
    lines = [HEADER.format(backup=backup_name or "a .bak file")]
    defaults = Config()
    for section in fields(Config):
        values = raw.get(section.name)
        if not values:
            continue
        lines.append(f"[{section.name}]")
        docs = {f.name: f.metadata.get("doc", "") for f in fields(getattr(defaults, section.name))}
        for key, value in values.items():
            lines.append(f"# {docs.get(key, '')}")
            lines.append(f"{key} = {_toml(value)}")
        lines.append("")
    return "\n".join(lines)


def diff(old: Config, new_values: Changes) -> dict[str, dict[str, Any]]:
    """Only the values that differ from `old`, so untouched settings keep following defaults."""
    out: dict[str, dict[str, Any]] = {}
    for section, values in new_values.items():
        current = getattr(old, section)
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if changed:
            out[section] = changed
    return out


# What a running app cannot swap without loading models again: (section, key) -> its label.
RESTART_FIELDS = {
    ("llm", "model"): "chat model",
    ("llm", "engine"): "chat engine",
    ("llm", "server_url"): "server address",
    ("voice", "llm_model"): "voice chat model",
    ("stt", "model"): "speech recognition",
    ("voice", "stt_model"): "voice speech recognition",
    ("tts", "engine"): "voice engine",
    ("tts", "voice"): "voice",
    ("tts", "speaking_rate"): "speaking rate",
    ("voice", "echo_cancellation"): "echo cancellation",
    ("vad", "end_of_turn"): "end of turn",
    ("vad", "end_of_turn_model"): "end-of-turn model",
}


def needs_restart(old: Config, new: Config) -> list[str]:
    """The labels of changed settings that take effect only when the app starts again."""
    return [
        label
        for (section, key), label in RESTART_FIELDS.items()
        if getattr(getattr(old, section), key, None) != getattr(getattr(new, section), key, None)
    ]


def model_states(config: Config, names: list[str]) -> dict[str, ModelState]:
    """Installed / absent / damaged for each catalog model; may hash files, so not on a GUI
    thread."""
    from models.store import open_store

    store = open_store(config)
    found = {}
    for name in names:
        states = {s.state for s in store.status(name)}
        state = "damaged" if "corrupt" in states else "installed" if states == {"ok"} else "absent"
        found[name] = ModelState(name, state, store.find(name).size)
    return found


def catalog_names(role: str) -> list[str]:
    """The catalog's models of one role, defaults first."""
    from models.catalog import CATALOG

    entries = [e for e in CATALOG if e.role == role]
    return [e.name for e in sorted(entries, key=lambda e: not e.default)]


def default_tool_rules() -> dict[str, str]:
    """Each built-in tool and the permission it has when no assistant overrides it."""
    from assistant_app.tools.builtin import configured_image_generator, default_tools, image_tool

    folder = Path(tempfile.gettempdir())  # nothing is written: the tools are only listed
    tools = [*default_tools(folder), image_tool(configured_image_generator, folder)]
    return {t.name: t.permission for t in tools}


def tool_rules(profiles: Profiles) -> dict[str, str]:
    """The current assistant's permission for every built-in tool."""
    profile = profiles.load(profiles.current())
    return {name: profile.permission(name, rule) for name, rule in default_tool_rules().items()}


def save_tool_rules(profiles: Profiles, rules: Mapping[str, str]) -> Profile:
    """Stores tool permissions in the current assistant, where `assistant assistants create
    --tool` keeps them; a rule equal to the tool's default is left out."""
    profile = profiles.load(profiles.current())
    defaults = default_tool_rules()
    tools = {k: v for k, v in profile.tools.items() if k not in rules}
    tools |= {k: v for k, v in rules.items() if defaults.get(k) != v}
    if tools == profile.tools:
        return profile
    updated = Profile(
        profile.name, profile.instructions, profile.knowledge_folders, profile.voice, tools
    )
    profiles.save(updated)
    return updated


def _check_limit(section: str, key: str, value: Any, source: str) -> None:
    limits = LIMITS.get((section, key))
    if limits and not limits[0] <= value <= limits[1]:
        raise ConfigError(
            f"{source}: [{section}] {key} = {value!r} is out of range; "
            f"use {limits[0]:g} to {limits[1]:g}."
        )


def _check_model(config: Config, section: str, key: str, value: Any, source: str) -> None:
    if (section, key) not in MODEL_FIELDS:
        return
    role, may_be_empty = MODEL_FIELDS[(section, key)]
    if (may_be_empty and value == "") or (role == "llm" and config.llm.engine == "openai"):
        return  # an OpenAI-compatible server names its own models
    known = catalog_names(role)
    if value not in known:
        raise ConfigError(
            f"{source}: [{section}] {key} '{value}' is not a {role} model in the catalog. "
            f"Valid models: {', '.join(known) or 'none'}."
        )


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # a JSON string is a valid TOML basic string (escapes included)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    raise ConfigError(f"cannot write {value!r} to the config file")


def _write_atomically(path: Path, data: bytes) -> None:
    """Writes a temp file beside `path`, flushes it to disk and renames it over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
