"""Custom assistants: named profiles of instructions, knowledge folders, voice and tool rules."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant_app.core.config import Config, data_dir
from assistant_app.core.errors import UserVisibleError
from assistant_app.tools.toolbox import PERMISSIONS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")
DEFAULT = "default"


@dataclass(frozen=True)
class Profile:
    """An assistant the user made: what it is told, what it knows, how it sounds, what it may do."""

    name: str
    instructions: str = ""
    knowledge_folders: tuple[str, ...] = ()
    voice: str = ""  # a [tts] engine name; empty keeps the configured one
    tools: dict[str, str] = field(default_factory=dict)  # tool name -> allow | ask | deny

    def permission(self, tool: str, default: str) -> str:
        return self.tools.get(tool, default)


class Profiles:
    """Profiles as small JSON files in one folder, readable and editable by hand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, profile: Profile) -> Path:
        _check(profile)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(profile.name)
        data = asdict(profile) | {"knowledge_folders": list(profile.knowledge_folders)}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path

    def load(self, name: str) -> Profile:
        if name == DEFAULT and not self._path(name).exists():
            return Profile(DEFAULT)
        path = self._path(name)
        if not path.exists():
            known = ", ".join(self.names()) or "none yet"
            raise UserVisibleError(
                f"There is no assistant called '{name}' (known: {known}). "
                "`assistant assistants create NAME` makes one."
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            profile = Profile(
                **{**data, "knowledge_folders": tuple(data.get("knowledge_folders", ()))}
            )
        except (ValueError, TypeError) as exc:
            raise UserVisibleError(
                f"The assistant file {path} is damaged ({exc}). Fix it or "
                "delete it with `assistant assistants delete`."
            ) from None
        _check(profile)
        return profile

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(_name_in(p) for p in self.folder.glob("*.json"))

    def delete(self, name: str) -> None:
        path = self._path(name)
        if not path.exists():
            raise UserVisibleError(f"There is no assistant called '{name}'.")
        path.unlink()
        if self.current() == name:
            (self.folder / "current").unlink(missing_ok=True)

    def use(self, name: str) -> None:
        """Makes `name` the assistant new conversations start with."""
        self.load(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "current").write_text(name, encoding="utf-8")

    def current(self) -> str:
        path = self.folder / "current"
        return path.read_text(encoding="utf-8").strip() if path.exists() else DEFAULT

    def _path(self, name: str) -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", name.lower()) + ".json")


def _name_in(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("name", path.stem))
    except (ValueError, OSError, AttributeError):
        return path.stem  # damaged: still listed, so the user can see and delete it


def _check(profile: Profile) -> None:
    if not _NAME.match(profile.name):
        raise UserVisibleError(
            f"'{profile.name}' is not a usable name: letters, digits, spaces, "
            "'_', '-' and '.', at most 40 characters."
        )
    bad = {t: p for t, p in profile.tools.items() if p not in PERMISSIONS}
    if bad:
        raise UserVisibleError(
            f"Tool permissions must be one of {', '.join(PERMISSIONS)}; got "
            + ", ".join(f"{t}={p}" for t, p in bad.items())
            + "."
        )


def profiles_for(config: Config) -> Profiles:
    """The custom assistants kept in the data dir."""
    return Profiles(data_dir(config) / "assistants")
