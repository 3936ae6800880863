"""Download one model file from a Hugging Face hub (or a mirror of it) into the model store."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import (
    HfFileMetadata,
    constants,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
)
from huggingface_hub import errors as hub_errors

from assistant_app.core.errors import ModelUnavailable

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (bytes written so far, total bytes); may be called from a worker thread."""

_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")
_NETWORK_FIX = (
    "check the network connection, or set `[models] hub_endpoint` in the config to a hub mirror "
    "you can reach, then run the download again."
)
_TOKEN_FIX = (
    "log in with a token that can read this repository (`hf auth login`, or set HF_TOKEN), "
    "then run the download again."
)

_online = threading.local()
_override_lock = threading.Lock()


def download_from_hub(
    repo_id: str,
    filename: str,
    revision: str,
    dest: Path,
    *,
    endpoint: str | None = None,
    progress: Progress | None = None,
    token: str | None = None,
) -> Path:
    """Download `filename` of model repo `repo_id` at `revision` to exactly `dest`; return it.

    `endpoint` None means huggingface_hub's default (HF_ENDPOINT, else huggingface.co); `token`
    None means its stored login, if any. The file is fetched beside `dest`, checked against the
    hub's checksum and renamed into place: `dest` is absent, the old file or the new one, never
    partial. A `dest` that already matches is kept. Works though HF_HUB_OFFLINE=1 at import.

    Raises ModelUnavailable, saying what to do, for every failure: network, missing repo,
    revision or file, refused access, incomplete or corrupt download, disk.
    """
    dest = Path(dest)
    endpoint = endpoint.rstrip("/") if endpoint else None
    url = f"{endpoint or constants.ENDPOINT}/{repo_id}"  # until hf_hub_url validates repo_id
    try:
        url = hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)
        with _network_allowed_in_this_thread():
            # A HEAD call of our own first: without retries, so a dead endpoint fails at once
            # (hf_hub_download retries connection errors with back-off for ~25 s), and its typed
            # errors come straight from the hub's answer.
            meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
            if meta.commit_hash is None or meta.etag is None:
                raise hub_errors.FileMetadataError("the answer has no X-Repo-Commit or ETag header")
            sink = _ProgressSink(progress, meta.size)
            if dest.is_file() and _matches_etag(dest, meta.etag, meta.size) is True:
                logger.info("%s already matches %s@%s", dest, repo_id, meta.commit_hash)
            else:
                logger.info("Downloading %s to %s", url, dest)
                _fetch(repo_id, filename, meta, dest, endpoint, token, sink)
            sink.finish(dest.stat().st_size)
            return dest
    except (OSError, httpx2.HTTPError, hub_errors.HFValidationError, _CorruptDownload) as error:
        problem, fix = _explain(error, repo_id, filename, revision, dest, url)
        raise ModelUnavailable(model=repo_id, problem=problem, looked_in=url, fix=fix) from error


def _fetch(
    repo_id: str,
    filename: str,
    meta: HfFileMetadata,
    dest: Path,
    endpoint: str | None,
    token: str | None,
    sink: _ProgressSink,
) -> None:
    """Fetch the commit `meta` names into a private folder, check it, rename it onto `dest`.

    Pinning the commit the HEAD call saw makes the ETag checked belong to these bytes.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Beside dest so the final rename stays on one file system (atomic); passed as both
    # local_dir and cache_dir so huggingface_hub neither writes to nor copies from ~/.cache.
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".download", dir=dest.parent))
    try:
        fetched = hf_hub_download(
            repo_id,
            filename,
            revision=meta.commit_hash,
            cache_dir=staging,
            local_dir=staging,
            endpoint=endpoint,
            token=token,
            tqdm_class=sink.bar_class(),
        )
        if _matches_etag(Path(fetched), str(meta.etag), meta.size) is False:
            raise _CorruptDownload()
        os.replace(fetched, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _CorruptDownload(Exception):
    """The downloaded bytes do not hash to the ETag the hub announced."""


def _explain(
    error: BaseException, repo_id: str, filename: str, revision: str, dest: Path, url: str
) -> tuple[str, str]:
    """The problem and the fix, in the user's terms, for an error raised while downloading."""
    known: list[tuple[type[BaseException], str, str]] = [
        (
            hub_errors.GatedRepoError,  # before its base class, RepositoryNotFoundError
            "the repository is gated: its terms must be accepted before downloading",
            f"accept the terms on the model's page ({url.split('/resolve/')[0]}) with your "
            f"account, then {_TOKEN_FIX}",
        ),
        (
            hub_errors.RepositoryNotFoundError,
            f"the hub has no repository '{repo_id}', or it is private",
            f"check the repo id in the model catalog; if the repository is private, {_TOKEN_FIX}",
        ),
        (
            hub_errors.RevisionNotFoundError,
            f"the repository has no revision '{revision}'",
            "check the revision pinned in the model catalog.",
        ),
        (
            hub_errors.RemoteEntryNotFoundError,
            f"the repository has no file '{filename}' at revision '{revision}'",
            "check the file name in the model catalog against the repository's file list.",
        ),
        (
            hub_errors.FileMetadataError,
            "the endpoint does not answer like a Hugging Face hub (no X-Repo-Commit or ETag)",
            "check `[models] hub_endpoint` and the HF_ENDPOINT environment variable; a proxy "
            "or captive portal may be answering instead of the hub.",
        ),
        (
            _CorruptDownload,
            "the downloaded file does not match the checksum the hub announced",
            "run the download again; if it keeps failing, the endpoint serves a different file "
            "than it describes (check `[models] hub_endpoint`).",
        ),
    ]
    for kind, problem, fix in known:
        if isinstance(error, kind):
            return problem, fix
    if isinstance(error, hub_errors.HfHubHTTPError):
        status = error.response.status_code
        if status in (401, 403):
            return f"the hub refused access (HTTP {status})", _TOKEN_FIX
        fix = "run the download again later; if it keeps failing, check `[models] hub_endpoint`."
        return f"the hub answered HTTP {status}", fix
    if isinstance(error, httpx2.HTTPError | hub_errors.LocalEntryNotFoundError | ConnectionError):
        return f"cannot reach the hub ({_one_line(error)})", _NETWORK_FIX
    if isinstance(error, hub_errors.HFValidationError):
        return f"invalid repo id or revision ({_one_line(error)})", "fix the model catalog entry."
    fix = f"check free space and write permission in {dest.parent}, then download again."
    return f"the download could not be completed ({_one_line(error)})", fix


def _one_line(error: BaseException) -> str:
    """The error's message on one line, without a trailing full stop."""
    return " ".join(str(error).split()).rstrip(".") or type(error).__name__


def _matches_etag(path: Path, etag: str, size: int | None) -> bool | None:
    """Whether the file hashes to the hub's ETag; None when the ETag is not a known hash.

    The hub's ETag is the sha256 for LFS files and the git blob sha1 for the others.
    """
    if size is not None and path.stat().st_size != size:
        return False
    if _SHA256.fullmatch(etag):
        digest = hashlib.sha256()
    elif _GIT_SHA1.fullmatch(etag):
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        return None
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest() == etag


@contextmanager
def _network_allowed_in_this_thread() -> Iterator[None]:
    """Let the calling thread reach the hub even if HF_HUB_OFFLINE=1 was set at import.

    huggingface_hub reads HF_HUB_OFFLINE once, at import, into `constants.HF_HUB_OFFLINE`, and
    its HTTP client's request hook refuses every request while `constants.is_offline_mode()` is
    true. Flipping the constant would open the network to every thread for the whole download
    (another library loading a model meanwhile could call huggingface.co), so instead
    `is_offline_mode` is wrapped, once, to answer False on a thread inside this block only.
    """
    with _override_lock:
        original = constants.is_offline_mode
        if not getattr(original, "thread_scoped", False):

            def is_offline_mode() -> bool:
                return False if getattr(_online, "active", False) else original()

            is_offline_mode.thread_scoped = True  # type: ignore[attr-defined]
            constants.is_offline_mode = is_offline_mode
            # Telemetry off for good: while on, building any request's user agent fetches
            # {constants.ENDPOINT}/api/agent-harnesses (huggingface.co even when a mirror is
            # configured) and caches it in ~/.cache/huggingface, unless HF_HUB_OFFLINE is set.
            constants.HF_HUB_DISABLE_TELEMETRY = True
    previous = getattr(_online, "active", False)
    _online.active = True
    try:
        yield
    finally:
        _online.active = previous


class _ProgressSink:
    """Turns huggingface_hub's tqdm calls into (done, total) reports; draws nothing."""

    def __init__(self, callback: Progress | None, expected_total: int | None) -> None:
        self._callback = callback
        self._expected_total = expected_total or 0
        self._last: tuple[int, int] | None = None

    def report(self, done: int, total: int | None) -> None:
        """Forward one report, filling in the size the HEAD call announced if tqdm has none."""
        current = (done, total or self._expected_total)
        if self._callback is not None and current != self._last:
            self._last = current
            self._callback(*current)

    def finish(self, size: int) -> None:
        """Report completion, unless the last report already said so."""
        self.report(size, size)

    def bar_class(self) -> type[_SilentBar]:
        """A tqdm-like class bound to this sink, for hf_hub_download's `tqdm_class`."""
        # A class, not a partial: huggingface_hub inspects it with getattr (see _SilentBar).
        return type("_BoundSilentBar", (_SilentBar,), {"sink": self})


class _SilentBar:
    """The tqdm surface huggingface_hub 2.x uses (http_get and the Xet reporter), no drawing.

    `update_transfer` exists so the Xet reporter makes one bar, not a second one that would
    count the network bytes of the same file again.
    """

    sink: _ProgressSink

    def __init__(self, *_args: Any, total: int | None = None, initial: int = 0, **_kw: Any) -> None:
        self.total = total
        self.n = initial
        self.sink.report(self.n, self.total)

    def update(self, n: float | None = 1) -> None:
        self.n += int(n or 0)
        self.sink.report(self.n, self.total)

    def update_transfer(self, n: float | None = 1) -> None:
        """Network bytes of a Xet download: ignored, `update` counts the bytes written."""

    def refresh(self, *_args: Any, **_kw: Any) -> None:
        """Drawing, speed text, closing: nothing to do."""

    set_postfix_str = set_transfer_postfix_str = close = refresh

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
