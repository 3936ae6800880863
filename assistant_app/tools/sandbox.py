"""Runs model-written Python in a locked-down child process for the assistant's "python" tool."""

# Layers, so that one gap is not an escape: see sandbox_child.py, the script the child runs.

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant_app.core.cancel import CancelToken
from assistant_app.tools.pycompat import newer_fstrings

log = logging.getLogger(__name__)

OUTPUT_LIMIT = 20_000  # bytes of stdout/stderr kept, half from the start and half from the end
MAX_KEPT_FILES, MAX_KEPT_MB = 100, 200
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".json"}  # carried into the next run of a conversation
CHILD = Path(__file__).resolve().with_name("sandbox_child.py")


@dataclass(frozen=True)
class SandboxResult:
    """What one run of the python tool produced."""

    ok: bool  # ran to the end without an exception
    stdout: str  # cut in the middle with a note when longer than OUTPUT_LIMIT
    stderr: str  # the traceback if the code raised, cut the same way
    files: tuple[Path, ...]  # files the code created, copied into keep_dir
    images: tuple[Path, ...]  # the PNGs among them, open matplotlib figures included
    error: str  # "" or one readable line: "timed out after 10 s", "blocked: ..."
    texts: dict[str, str] = field(default_factory=dict)  # small data files it made or changed


def run_python(
    code: str,
    *,
    keep_dir: Path,
    timeout_s: float = 10,
    memory_mb: int = 512,
    max_processes: int = 16,
    max_file_mb: int = 50,
    inputs: dict[str, str] | None = None,
    cancel: CancelToken | None = None,  # None: runs until done or timed out
) -> SandboxResult:
    """Run `code` in a fresh sandboxed interpreter. Bad code gives ok=False, never an exception.

    `inputs` (file name -> text) are written into its folder first; they are not kept as
    files the code made unless it changes them. Once `cancel` is cancelled (barge-in, Stop)
    the run is killed within 10 ms."""
    (keep_dir := Path(keep_dir)).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="assistant-sandbox-")).resolve()
    try:
        work = root / "work"
        for folder in (work, work / ".tmp", work / ".matplotlib"):
            folder.mkdir()
        code = newer_fstrings(code)  # f'{row['name']}': Python 3.12's f-strings, on 3.11
        (root / "code.py").write_text(code, encoding="utf-8", errors="replace")
        given = {}
        for name, text in (inputs or {}).items():
            (work / Path(name).name).write_text(text, encoding="utf-8")
            given[Path(name).name] = text.encode("utf-8")
        settings = dict(root=str(root), work=str(work), timeout_s=timeout_s, memory_mb=memory_mb)
        settings.update(max_processes=max_processes, max_file_mb=max_file_mb)
        command = _confined([sys.executable, "-I", str(CHILD), json.dumps(settings)], root)
        # Built from nothing: keys and tokens in the assistant's environment never reach the code.
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(work / ".matplotlib"), "TMPDIR": str(work / ".tmp"),
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        }  # fmt: skip
        with open(root / "stdout", "wb") as out, open(root / "stderr", "wb") as err:
            child = subprocess.Popen(
                command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True,
            )  # fmt: skip
        stopped = cancel or CancelToken.never()
        timed_out = _wait_then_kill_group(child, timeout_s, stopped)
        if stopped.cancelled:
            return SandboxResult(False, "", "", (), (), "stopped by the user")
        try:  # written by the runner, though the code could have scribbled on it
            status = json.loads((root / "status.json").read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            status = {}
        status = status if isinstance(status, dict) else {}
        if "setup_error" in status:  # not raised: the code could forge this through the file
            log.error("the python sandbox failed to start: %s", status["setup_error"])
        if isinstance(status.get("missing"), list) and status["missing"]:
            log.info("sandbox ran without: %s", "; ".join(map(str, status["missing"])))
        ok, error = _outcome(child.returncode, timed_out, status, timeout_s)
        for name, data in given.items():  # unchanged inputs are not news
            with contextlib.suppress(OSError):
                if (work / name).read_bytes() == data:
                    (work / name).unlink()
        texts = _small_texts(work)
        files, images = _keep_files(work, keep_dir)
        stdout, stderr = _read_capped(root / "stdout"), _read_capped(root / "stderr")
        return SandboxResult(ok, stdout, stderr, files, images, error, texts)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def macos_profile(root: Path) -> str:
    """A sandbox-exec (Seatbelt) profile for macOS, which has no namespaces, Landlock or
    seccomp: no network at all, and writing only inside the sandbox's own folder. Reading stays
    open (the interpreter and its libraries live all over the disk) except the user's secrets."""
    home = Path.home()
    secrets = [home / d for d in (".ssh", ".aws", ".gnupg", ".config", "Library/Keychains")]
    hidden = " ".join(f'(subpath "{p}")' for p in secrets)
    return (
        "(version 1)\n(allow default)\n(deny network*)\n"
        f'(deny file-write* (require-not (require-any (subpath "{root}") '
        '(literal "/dev/null") (literal "/dev/dtracehelper"))))\n'
        f"(deny file-read* {hidden})\n"
    )


def _confined(command: list[str], root: Path) -> list[str]:
    """On macOS the child runs under sandbox-exec (the child's own limits still apply); on Linux
    it confines itself (network namespace, Landlock, seccomp: see sandbox_child)."""
    if sys.platform == "darwin" and shutil.which("sandbox-exec"):
        return ["sandbox-exec", "-p", macos_profile(root), *command]
    return command


def _wait_then_kill_group(child: subprocess.Popen, timeout_s: float, cancel: CancelToken) -> bool:
    """Wait up to timeout_s (or until `cancel`), then kill the child's whole process group;
    True if it timed out."""
    deadline = time.monotonic() + timeout_s
    # WNOWAIT leaves the child unreaped, so its group id cannot be reused before the kill below.
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    while (done := os.waitid(os.P_PID, child.pid, flags)) is None and time.monotonic() < deadline:
        if cancel.cancelled:
            break
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    return done is None


def _outcome(returncode: int, timed_out: bool, status: dict, timeout_s: float) -> tuple[bool, str]:
    if timed_out or returncode == -signal.SIGXCPU:
        return False, f"timed out after {timeout_s:g} s"
    if "setup_error" in status:
        return False, f"the sandbox failed to start: {status['setup_error']}"[:300]
    if "ok" in status:
        return bool(status["ok"]), str(status.get("error", ""))[:300]
    if returncode < 0:
        return False, f"was stopped by a signal: {signal.strsignal(-returncode) or -returncode}"
    # Status 0 without a report: the code called os._exit(0) before the runner could write one.
    return returncode == 0, f"exited with status {returncode}" if returncode else ""


def _read_capped(path: Path, limit: int = OUTPUT_LIMIT) -> str:
    size = path.stat().st_size
    with path.open("rb") as stream:
        if size <= limit:
            return stream.read().decode("utf-8", "replace")
        head = stream.read(limit // 2)
        stream.seek(size - limit // 2)
        tail = stream.read()
    note = f"\n[... output cut: {size - limit} of {size} bytes left out ...]\n"
    return head.decode("utf-8", "replace") + note + tail.decode("utf-8", "replace")


def _small_texts(work: Path) -> dict[str, str]:
    """The data files (CSV, text, JSON) in the top folder, so the next run can read them."""
    found = {}
    for path in sorted(work.iterdir()):
        info = path.lstat()
        if path.suffix.lower() in DATA_SUFFIXES and stat.S_ISREG(info.st_mode):
            if info.st_size <= 2**20 and info.st_nlink == 1:
                with contextlib.suppress(UnicodeDecodeError):
                    found[path.name] = path.read_text(encoding="utf-8")
    return found


def _keep_files(work: Path, keep_dir: Path) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Copy the code's plain files into keep_dir, never overwriting; returns them and the PNGs."""
    kept, images, budget = [], [], MAX_KEPT_MB * 2**20
    for folder, subfolders, names in os.walk(work):  # does not follow symlinked folders
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            source = Path(folder, name)
            info = source.lstat()
            # A symlink or a second hard link could point at a file outside the sandbox.
            if name.startswith(".") or not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                continue
            if len(kept) >= MAX_KEPT_FILES or info.st_size > budget:
                log.warning("sandbox: not keeping %s (file count or size limit)", name)
                continue
            target, number = keep_dir / source.relative_to(work), 0
            while target.exists():
                number += 1
                target = target.with_name(f"{source.stem}-{number}{source.suffix}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            budget -= info.st_size
            kept.append(target)
            with target.open("rb") as stream:
                if stream.read(len(PNG_MAGIC)) == PNG_MAGIC:
                    images.append(target)
    return tuple(kept), tuple(images)
