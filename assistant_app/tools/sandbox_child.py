"""The sandbox's child, `python -I sandbox_child.py SETTINGS`: raises the layers, runs the code.

Stdlib only: isolated mode puts nothing of the app on sys.path.
"""

# Layers, so that one gap is not an escape. The child is `python -I` in its own session, with an
# empty environment, a private folder and rlimits. On Linux it enters a new network namespace (no
# network), restricts itself with Landlock (read Python and system libraries, write its folder
# only, no TCP, no signals out), drops all capabilities and loads a seccomp filter (no fork, exec,
# ptrace or memfd, by any route). Last, an audit hook gives readable errors and stands alone where
# the kernel offers none of these; by itself it is no boundary (PEP 578), Python can defeat it.

from __future__ import annotations

import ast
import contextlib
import ctypes  # imported before the child's audit hook, which refuses the dlopen this does
import errno
import itertools
import json
import linecache
import os
import stat
import struct
import sys
import threading
import traceback
import types
from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# What imports, fonts and the dynamic linker read besides the Python installation.
SYSTEM_READ_PATHS = (
    "/usr/lib /usr/lib64 /lib /lib64 /usr/share /etc/fonts /etc/ld.so.cache /etc/localtime "
    "/sys/devices/system/cpu /proc/self /dev/urandom"
).split()
# Audit events refused outright -> the reason given.
REFUSED_EVENTS = {
    event: reason
    for events, reason in (
        ("os.fork os.forkpty os.system os.exec os.posix_spawn os.spawn subprocess.Popen",
         "blocked: starting processes is not allowed ({})"),
        ("socket.connect socket.bind socket.getaddrinfo socket.gethostbyname socket.sendto "
         "socket.gethostbyaddr socket.sendmsg", "tried to open a network connection ({})"),
        ("os.chdir os.symlink os.link os.kill os.killpg socket.sethostname ctypes.dlopen "
         "ctypes.dlsym ctypes.dlsym/handle ctypes.cdata resource.setrlimit resource.prlimit "
         "sys.settrace sys.setprofile gc.get_objects gc.get_referrers gc.get_referents",
         "blocked: {} is not allowed in the sandbox"),
    )
    for event in events.split()
}  # fmt: skip
# Audit event -> (path argument, dir_fd argument) pairs of calls that change the file system.
WRITE_EVENTS = {
    "os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),), "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),), "os.utime": ((0, 3),), "os.rename": ((0, 2), (1, 3)),
    "os.truncate": ((0, None),), "os.setxattr": ((0, None),), "os.removexattr": ((0, None),),
    "sqlite3.connect": ((0, None),),
}  # fmt: skip
# Machine -> (seccomp audit arch, clone, clone3, refused: exec, fork, ptrace, process_vm, memfd).
SECCOMP_ARCHES = {
    "x86_64": (0xC000003E, 56, 435, (57, 58, 59, 322, 101, 310, 311, 319)),
    "aarch64": (0xC00000B7, 220, 435, (221, 281, 117, 270, 271, 279)),
}


def _child_main(settings: dict) -> None:
    """The child's main: raise the layers, then run the code."""
    root, work = settings["root"], settings["work"]
    status_fd = os.open(Path(root, "status.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        code = Path(root, "code.py").read_text(encoding="utf-8")
        _limit_resources(settings)
        libc = ctypes.CDLL(None, use_errno=True)
        prefixes = (sys.prefix, sys.base_prefix, sys.exec_prefix, *SYSTEM_READ_PATHS)
        system = tuple(dict.fromkeys(os.path.realpath(p) for p in prefixes if os.path.exists(p)))
        _call(libc.prctl, 38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, which Landlock and seccomp need
        missing, no_capabilities = [], (struct.pack("Ii", 0x20080522, 0), bytes(24))
        # A new network namespace has only a loopback device, and it is down. UTS and IPC come
        # free; users other than root need a user namespace to be allowed one.
        namespaces = 0x4C000000 if os.getuid() == 0 else 0x50000000
        for name, layer in (
            ("network namespace", lambda: _call(libc.unshare, namespaces)),
            ("landlock", lambda: _landlock(libc, system, work)),
            ("capabilities", lambda: _call(libc.capset, *no_capabilities)),
            ("seccomp", lambda: _seccomp(libc)),
        ):  # fmt: skip
            try:  # each kernel layer is best effort: old kernels, containers, other machines
                layer()
            except (OSError, KeyError, AttributeError) as exc:
                missing.append(f"{name} ({exc})")
        violations = _install_audit_hook(work, system)
    except BaseException as exc:  # noqa: BLE001 - any setup failure means there is no sandbox
        os.write(status_fd, json.dumps({"setup_error": repr(exc)}).encode())
        os._exit(70)
    report = _run_user_code(code, violations, settings)
    _write_stderr("")
    os.write(status_fd, json.dumps({**report, "missing": missing}).encode())
    os._exit(0)  # skips interpreter shutdown, which the code could have made hang


def _call(function, *args) -> int:
    result = function(*(ctypes.c_long(a) if isinstance(a, int) else a for a in args))
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def _limit_resources(settings: dict) -> None:
    import resource

    tasks = settings["max_processes"]
    if os.getuid() != 0:  # RLIMIT_NPROC counts all the user's tasks (and root is exempt)
        tasks += sum(len(os.listdir(f"/proc/{p}/task")) for p in os.listdir("/proc") if p.isdigit())
    for limit, value in (
        (resource.RLIMIT_CPU, int(settings["timeout_s"]) + 1),  # backs up the wall-clock timeout
        (resource.RLIMIT_AS, settings["memory_mb"] * 2**20), (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, settings["max_file_mb"] * 2**20),
        (resource.RLIMIT_NPROC, tasks), (resource.RLIMIT_NOFILE, 256),
    ):  # fmt: skip
        hard = resource.getrlimit(limit)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value + int(limit == resource.RLIMIT_CPU)))


def _landlock(libc, system: tuple[str, ...], work: str) -> None:
    """Kernel file-system allow-list: read the system paths, read and write `work`, no TCP."""
    abi = _call(libc.syscall, 444, None, 0, 1)  # landlock_create_ruleset(VERSION)
    handled = (1 << {1: 13, 2: 14, 3: 15, 4: 15}.get(abi, 16)) - 1
    attr = struct.pack("QQQ", handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    ruleset = _call(libc.syscall, 444, attr, 8 if abi < 4 else 16 if abi < 6 else 24, 0)
    read, file_rights = 0b1100, 0b1100000000000111  # READ_FILE|READ_DIR; rights valid on files
    in_work = handled & ~(1 | 1 << 6 | 1 << 11 | 1 << 12)  # no exec, devices or symlinks
    rules = [(path, read) for path in system] + [("/dev/null", 0b110 | 1 << 14), (work, in_work)]
    for path, access in rules:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        access &= handled if os.path.isdir(path) else handled & file_rights
        _call(libc.syscall, 445, ruleset, 1, struct.pack("=Qi", access, fd), 0)
        os.close(fd)
    _call(libc.syscall, 446, ruleset, 0)  # landlock_restrict_self


def _seccomp(libc) -> None:
    """Kernel refusal of new processes, exec, ptrace and memfd, whatever route the code finds."""
    arch, clone, clone3, refused = SECCOMP_ARCHES[os.uname().machine]
    eperm, allow = 0x50000 | errno.EPERM, 0x7FFF0000
    program = [
        (0x20, 0, 0, 4), (0x15, 1, 0, arch), (0x06, 0, 0, eperm),  # other ABIs: refuse all
        (0x20, 0, 0, 0), (0x35, 0, 1, 0x40000000), (0x06, 0, 0, eperm),  # x32 numbers
        (0x15, 0, 1, clone3), (0x06, 0, 0, 0x50000 | errno.ENOSYS),  # glibc falls back to clone
        (0x15, 0, 4, clone), (0x20, 0, 0, 16), (0x45, 0, 1, 0x10000),  # CLONE_THREAD: a thread
        (0x06, 0, 0, allow), (0x06, 0, 0, eperm),
    ]  # fmt: skip
    for number in refused:
        program += [(0x15, 0, 1, number), (0x06, 0, 0, eperm)]
    program.append((0x06, 0, 0, allow))
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in program))
    _call(libc.prctl, 22, 2, struct.pack("HxxxxxxQ", len(program), ctypes.addressof(code)), 0, 0)


def _install_audit_hook(work: str, system: tuple[str, ...]) -> list[str]:
    """Refuse file, process, network and introspection events; returns the refusals made."""
    violations: list[str] = []
    readable, writable = (*system, work, "/dev/null"), (work, "/dev/null")
    # Bound now: the code shares this interpreter and may replace os.* or builtins later.
    readlink, stat_path, is_dir, fspath = os.readlink, os.stat, stat.S_ISDIR, os.fspath
    is_a, exact, decode, digits, any_ = isinstance, str.__str__, bytes.decode, int.__repr__, any
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    write_events, refuse = dict(WRITE_EVENTS), PermissionError
    refused, here = dict(REFUSED_EVENTS), (work,)

    def text(path: object) -> str:
        if is_a(path, int):  # a descriptor: ask the kernel what it points at
            return readlink("/proc/self/fd/" + digits(path))
        path = path if is_a(path, (str, bytes)) else fspath(path)
        return exact(path) if is_a(path, str) else decode(path, "utf-8", "surrogateescape")

    def resolve(path: object, dir_fd: int = -1) -> str:
        """Absolute and free of symlinks, like os.path.realpath, from the bound functions only."""
        base = work if dir_fd == -1 else text(dir_fd)
        path = text(path)
        todo, parts = (path if path.startswith("/") else base + "/" + path).split("/")[::-1], []
        for _ in range(10_000):  # bounds symlink loops
            if not todo:
                return "/" + "/".join(parts)
            name = todo.pop()
            if name == "..":
                parts = parts[:-1]
            elif name not in ("", "."):
                parts.append(name)
                try:
                    target = readlink("/" + "/".join(parts))
                except OSError:
                    continue
                parts = [] if target.startswith("/") else parts[:-1]
                todo.extend(target.split("/")[::-1])
        return "<symlink loop>"

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        return any_(path == root or path.startswith(root + "/") for root in roots)

    def deny(message: str) -> None:
        violations.append(message)
        raise refuse(message)

    def hook(event: str, args: tuple) -> None:
        if event == "open" and args[0] is not None and not is_a(args[0], int):
            target = resolve(args[0])
            if args[2] & write_flags and not inside(target, writable):
                deny(f"blocked: writing outside the sandbox ({target})")
            if not inside(target, readable):
                deny(f"blocked: reading outside the sandbox ({target})")
            # A folder descriptor from outside would make os.open(name, dir_fd=...) uncheckable.
            if args[1] is None and not inside(target, here) and is_dir(stat_path(target).st_mode):
                deny(f"blocked: opening a folder outside the sandbox ({target})")
        elif event in write_events:
            if event == "sqlite3.connect" and text(args[0]).startswith("file:"):
                deny("blocked: sqlite3 URIs are not allowed in the sandbox")
            for path_at, fd_at in write_events[event]:
                target = resolve(args[path_at], -1 if fd_at is None else args[fd_at])
                if not inside(target, writable):
                    deny(f"blocked: changing files outside the sandbox ({target})")
        elif event in ("os.listdir", "os.scandir") and args[0] is not None:
            if not is_a(args[0], int) and not inside(target := resolve(args[0]), readable):
                deny(f"blocked: listing a folder outside the sandbox ({target})")
        elif event == "import" and args[1] is not None and not inside(resolve(args[1]), system):
            deny(f"blocked: loading native code from outside the Python installation ({args[1]})")
        elif event in refused:
            deny(refused[event].format(event))

    sys.addaudithook(hook)
    return violations


def _exec_showing_the_last_value(code: str, namespace: dict) -> None:
    """Runs the code; a last line that is a bare expression (`sum(x)`, `df.describe()`) is
    printed as an interactive session would: models often forget the print."""
    tree = ast.parse(code, "<python>")
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, "<python>", "exec", dont_inherit=True), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<python>", "eval"), namespace)
        shown = repr(value) if value is not None else ""
        if shown and not shown.lstrip("[(").startswith("<"):  # not a bare object (a plot line)
            print(shown)


def _run_user_code(code: str, violations: list[str], settings: dict) -> dict:
    linecache.cache["<python>"] = (len(code), None, code.splitlines(True), "<python>")
    sys.argv, main = ["<python>"], types.ModuleType("__main__")
    sys.modules["__main__"] = main  # the code's own, so pickle and dataclasses find its classes
    if "matplotlib" in code:
        with contextlib.suppress(Exception):  # the code's own import will show the error
            _track_savefig()
    ok, error = True, ""
    try:
        _exec_showing_the_last_value(code, main.__dict__)
        for thread in threading.enumerate():  # like a normal exit, wait for non-daemon threads
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
    except SystemExit as exc:
        ok = exc.code in (None, 0)
        error = "" if ok else f"exited with status {exc.code}"
    except BaseException as exc:  # noqa: BLE001 - the code's failure is the result
        ok, error = False, _describe(exc, violations, settings)
        report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        chained: traceback.TracebackException | None = report
        while chained is not None:  # drop this file's frames: the model wrote none of them
            frames = [frame for frame in chained.stack if frame.filename != __file__]
            chained.stack = traceback.StackSummary.from_list(frames)
            chained = chained.__cause__ or chained.__context__
        _write_stderr("".join(report.format()))
    try:
        _save_open_figures()
    except Exception as exc:  # noqa: BLE001 - a broken figure must not hide the result
        _write_stderr(f"sandbox: could not save the open figures: {exc}\n")
    return {"ok": ok, "error": error}


def _describe(exc: BaseException, violations: list[str], settings: dict) -> str:
    """One line for `error`: the refusal behind the exception, if any, else the exception."""
    cause: BaseException | None = exc
    for _ in range(10):  # the refusal may sit under a library's own exception
        if isinstance(cause, PermissionError) and str(cause) in violations:
            return str(cause)
        cause = cause and (cause.__cause__ or cause.__context__)
    if isinstance(exc, MemoryError):
        return f"used more than {settings['memory_mb']} MB of memory"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return f"wrote a file larger than {settings['max_file_mb']} MB"
    # A PermissionError the hook did not raise came from the kernel layers.
    prefix = "blocked" if isinstance(exc, PermissionError) else type(exc).__name__
    return f"{prefix}: {exc}".splitlines()[0][:300]


def _write_stderr(text: str) -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):  # keeps the order
        with contextlib.suppress(Exception):  # the code may have closed or replaced them
            stream.flush()
    os.write(2, text.encode("utf-8", "replace"))


def _track_savefig() -> None:
    """Mark the figures the code saves itself, so the auto-save at the end skips them."""
    from matplotlib.figure import Figure

    def savefig(self, *args, original=Figure.savefig, **kwargs):
        self._sandbox_saved = True
        return original(self, *args, **kwargs)

    Figure.savefig = savefig


def _save_open_figures() -> None:
    """Save every open, unsaved matplotlib figure as figure_N.png in the working folder."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    names = (name for n in itertools.count(1) if not os.path.exists(name := f"figure_{n}.png"))
    for figure in map(pyplot.figure, pyplot.get_fignums()) if pyplot else ():
        if not getattr(figure, "_sandbox_saved", False):
            figure.savefig(next(names))


if __name__ == "__main__":
    _child_main(json.loads(sys.argv[1]))
