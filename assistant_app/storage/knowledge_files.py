"""Single files given to an assistant (dropped on the window): copied into a folder of its
own that joins the assistant's knowledge folders."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

from assistant_app.core.config import Config, data_dir
from assistant_app.core.errors import UserVisibleError
from assistant_app.storage.knowledge import MAX_FILE_BYTES, TEXT_SUFFIXES, extract_text
from assistant_app.storage.profiles import Profiles

KNOWLEDGE_KINDS = "text, Markdown or PDF"
ADDABLE = {".txt", ".md", ".markdown", ".rst", ".pdf", ".html", ".htm", ".csv", ".json"}


def can_learn(path: Path) -> bool:
    """Whether `path` is a kind of file an assistant can take into its knowledge."""
    return path.suffix.lower() in ADDABLE & TEXT_SUFFIXES


def files_folder(config: Config, assistant: str) -> Path:
    safe = re.sub(r"[^a-z0-9_.-]", "_", assistant.lower())
    return data_dir(config) / "knowledge-files" / safe


def add_file(config: Config, profiles: Profiles, assistant: str, path: Path) -> Path:
    """Copies `path` into the assistant's own knowledge folder (never overwriting another
    file) and makes sure that folder is one of its knowledge folders; returns the copy.

    The file is read first, so an empty, damaged or oversized one is refused with the reason
    instead of joining the index silently unread."""
    if not path.is_file():
        raise UserVisibleError(f"{path} was not found.")
    if not can_learn(path):
        raise UserVisibleError(
            f"{path.name} cannot be added to knowledge: drop a {KNOWLEDGE_KINDS} file."
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserVisibleError(
            f"{path.name} is {size // 1_000_000} MB; knowledge files can be at most "
            f"{MAX_FILE_BYTES // 1_000_000} MB. Split it into smaller files."
        )
    hint = (
        " If it is a drawing of a web page, export it as a PNG and drop that instead."
        if path.suffix.lower() == ".pdf"
        else ""
    )
    try:
        text = extract_text(path, path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - every reader failure reads the same to the user
        raise UserVisibleError(f"{path.name} could not be read ({exc}).{hint}") from None
    if not text.strip():
        raise UserVisibleError(
            f"{path.name} has no text to learn from (a scanned PDF has only pictures of text)."
            + hint
        )
    folder = files_folder(config, assistant)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem} ({n}){path.suffix}"
    shutil.copy2(path, target)
    profile = profiles.load(assistant)
    if str(folder) not in profile.knowledge_folders:
        profile = dataclasses.replace(
            profile, knowledge_folders=(*profile.knowledge_folders, str(folder))
        )
        profiles.save(profile)
    return target
