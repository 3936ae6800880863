"""The python tool's sandbox: code runs, results come back, escape attempts fail and are named."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import pytest

from assistant_app.tools.sandbox import PNG_MAGIC, run_python

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox's layers are Linux's")


@pytest.fixture
def keep(tmp_path: Path) -> Path:
    return tmp_path / "kept"


@pytest.fixture(scope="module")
def missing_layers(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The kernel layers this machine could not raise, as the sandbox logs them."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("assistant_app.tools.sandbox")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        run_python("pass", keep_dir=tmp_path_factory.mktemp("probe"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return " ".join(record.getMessage() for record in records)


def needs_layer(missing_layers: str, name: str) -> None:
    if name in missing_layers:
        pytest.skip(f"this kernel gives no {name}: {missing_layers}")


def test_prints_and_threads_come_back(keep: Path) -> None:
    # The thread is not joined: like a normal exit, the sandbox waits for it.
    code = "import threading\nprint('hello', 6 * 7)\n"
    code += "threading.Thread(target=print, args=['bye']).start()"
    result = run_python(code, keep_dir=keep)
    assert result.ok and result.error == ""
    assert result.stdout == "hello 42\nbye\n"
    assert result.files == ()


def test_a_last_bare_expression_is_shown_as_in_an_interactive_session(keep: Path) -> None:
    assert run_python("sum(i * i for i in range(1, 16))", keep_dir=keep).stdout == "1240\n"
    assert run_python("x = 2\nprint(x)", keep_dir=keep).stdout == "2\n"  # shown once
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])"
    shown = run_python(plot, keep_dir=keep)
    assert shown.stdout == "" and len(shown.images) == 1  # no "[<Line2D …>]" noise
    failed = run_python("x = 1\n1 / 0", keep_dir=keep)
    assert not failed.ok and "line 2" in failed.stderr and "ZeroDivisionError" in failed.stderr


def test_an_exception_comes_back_as_a_traceback(keep: Path) -> None:
    result = run_python("def f():\n    return 1 / 0\n\nf()", keep_dir=keep)
    assert not result.ok
    assert result.error == "ZeroDivisionError: division by zero"
    assert 'File "<python>", line 2, in f' in result.stderr and "return 1 / 0" in result.stderr
    assert "sandbox.py" not in result.stderr  # the runner's own frames are left out


def test_a_plot_comes_back_as_a_png_without_savefig(keep: Path) -> None:
    code = (
        "import numpy as np\nimport matplotlib.pyplot as plt\n"
        "x = np.linspace(0, 10, 200)\nplt.plot(x, np.sin(x))\nplt.title('sin(x)')\n"
        "plt.figure()\nplt.plot(x, x)\nplt.savefig('line.png')"  # saved by the code: not twice
    )
    result = run_python(code, keep_dir=keep)
    assert result.ok, result.stderr
    assert [path.name for path in result.images] == ["figure_1.png", "line.png"]
    assert all(path.parent == keep for path in result.images)
    assert all(path.read_bytes().startswith(PNG_MAGIC) for path in result.images)


def test_a_created_csv_comes_back_and_the_work_folder_is_removed(
    keep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    code = (
        "import csv\nwith open('data.csv', 'w') as f:\n    csv.writer(f).writerows([[1, 2], [3]])"
    )
    result = run_python(code, keep_dir=keep)
    assert result.ok, result.stderr
    assert result.files == (keep / "data.csv",) and result.images == ()
    assert (keep / "data.csv").read_bytes() == b"1,2\r\n3\r\n"
    assert list(temp.iterdir()) == []


def test_kept_files_never_overwrite_earlier_ones(keep: Path) -> None:
    first = run_python("open('notes.txt', 'w').write('one')", keep_dir=keep)
    second = run_python("open('notes.txt', 'w').write('two')", keep_dir=keep)
    assert [path.name for path in first.files + second.files] == ["notes.txt", "notes-1.txt"]
    assert (keep / "notes.txt").read_text() == "one"


def test_long_output_is_cut_with_a_note(keep: Path) -> None:
    result = run_python("print('x' * 100_000)", keep_dir=keep)
    assert result.ok
    assert len(result.stdout) < 21_000 and "output cut" in result.stdout


def test_the_environment_holds_no_secrets(keep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TEST_SECRET", "hunter2")
    result = run_python("import os\nprint(dict(os.environ))", keep_dir=keep)
    assert result.ok
    assert "hunter2" not in result.stdout and "ASSISTANT_TEST_SECRET" not in result.stdout
    assert "'PATH'" in result.stdout


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("print(open('/etc/shadow').read())", "blocked: reading outside the sandbox (/etc/shadow)"),
        ("print(open('/etc/passwd').read())", "blocked: reading outside the sandbox (/etc/passwd)"),
        ("import os\nprint(os.listdir('/root'))", "blocked: listing a folder outside the sandbox"),
        ("import os\nos.chdir('/')", "blocked: os.chdir is not allowed in the sandbox"),
        ("import ctypes\nctypes.CDLL('libc.so.6').system(b'sh')", "blocked: ctypes.dlopen"),
        ("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", "blocked: resource"),
    ],
)
def test_escapes_by_name_are_refused(keep: Path, code: str, reason: str) -> None:
    result = run_python(code, keep_dir=keep)
    assert not result.ok
    assert result.error.startswith(reason)
    assert "PermissionError" in result.stderr


def test_reading_a_secret_outside_is_refused(keep: Path, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- hunter2")
    result = run_python(f"print(open({str(secret)!r}).read())", keep_dir=keep)
    assert not result.ok and result.error.startswith("blocked: reading outside the sandbox")
    assert "hunter2" not in result.stdout + result.stderr


def test_c_code_that_opens_files_itself_meets_landlock(
    keep: Path, tmp_path: Path, missing_layers: str
) -> None:
    needs_layer(missing_layers, "landlock")
    # readline reads the file in C, past the audit hook: only the kernel layer is left.
    secret = tmp_path / "history"
    secret.write_text("hunter2\n")
    code = f"import readline\nreadline.read_history_file({str(secret)!r})\n"
    code += "print(readline.get_history_item(1))"
    result = run_python(code, keep_dir=keep)
    assert "hunter2" not in result.stdout
    assert not result.ok and result.error.startswith("blocked: [Errno 13]")


@pytest.mark.parametrize(
    "how", ["open({path!r}, 'w').write('x')", "import os\nos.rename('a', {path!r})"]
)
def test_writing_outside_is_refused(keep: Path, tmp_path: Path, how: str) -> None:
    target = tmp_path / "evil.txt"
    result = run_python("open('a', 'w').close()\n" + how.format(path=str(target)), keep_dir=keep)
    assert not result.ok and "outside the sandbox" in result.error
    assert not target.exists()


def test_sqlite_cannot_create_a_database_outside(keep: Path, tmp_path: Path) -> None:
    database = tmp_path / "outside.db"
    sqlite3.connect(database).execute("create table t(x)").connection.commit()
    code = (
        f"import sqlite3\nsqlite3.connect('file:{database}?mode=ro', uri=True).execute('select 1')"
    )
    result = run_python(code, keep_dir=keep)
    assert not result.ok and result.error == "blocked: sqlite3 URIs are not allowed in the sandbox"


@pytest.mark.parametrize("host", ["127.0.0.1", "192.0.2.1"])  # 192.0.2.0/24 is never routed
def test_network_connections_are_refused(keep: Path, host: str) -> None:
    code = f"import socket\nsocket.create_connection(({host!r}, 80), timeout=1)"
    result = run_python(code, keep_dir=keep)
    assert not result.ok
    assert result.error.startswith("tried to open a network connection")


def test_the_network_namespace_has_only_a_loopback_that_is_down(
    keep: Path, missing_layers: str
) -> None:
    needs_layer(missing_layers, "network namespace")
    # Behind the audit hook: even a raw socket would find no interface and no route.
    code = "print(open('/proc/self/net/dev').read())\nprint(open('/proc/self/net/route').read())"
    result = run_python(code, keep_dir=keep)
    assert result.ok, result.stderr
    devices, routes = result.stdout.split("\n\n")[:2]
    assert [line.split(":")[0].strip() for line in devices.splitlines()[2:]] == ["lo"]
    assert len(routes.splitlines()) == 1  # the header only: loopback is down, nothing routes


@pytest.mark.parametrize(
    "code", ["import os\nos.system('sh')", "import subprocess\nsubprocess.run('sh')"]
)
def test_shells_are_refused(keep: Path, code: str) -> None:
    result = run_python(code, keep_dir=keep)
    assert not result.ok
    assert result.error.startswith("blocked: starting processes is not allowed")


def test_a_shell_on_a_pseudo_terminal_is_refused(keep: Path) -> None:
    # pty.spawn swallows the refused forkpty; then Landlock keeps /dev/ptmx shut, or the hook
    # refuses the fork it falls back to.
    result = run_python("import pty\npty.spawn('sh')\nprint('spawned')", keep_dir=keep)
    assert not result.ok and result.stdout == ""
    assert result.error.startswith("blocked") or result.error == "OSError: out of pty devices"


def test_a_fork_bomb_is_stopped_before_the_first_fork(keep: Path) -> None:
    # The bomb only runs once a single fork is known to be refused, so a broken sandbox costs
    # one stray process (killed with the group), never the machine.
    single = run_python("import os\nprint(os.fork())", keep_dir=keep, timeout_s=3)
    assert not single.ok and single.stdout == "", "fork is not blocked: not running the bomb"
    bomb = run_python("import os\nwhile True:\n    os.fork()", keep_dir=keep, timeout_s=3)
    assert not bomb.ok and bomb.error == "blocked: starting processes is not allowed (os.fork)"
    assert run_python("print('still here')", keep_dir=keep).stdout == "still here\n"


def test_process_creation_below_the_hook_meets_seccomp(keep: Path, missing_layers: str) -> None:
    needs_layer(missing_layers, "seccomp")
    # _posixsubprocess.fork_exec raises no audit event; the kernel filter refuses the fork.
    code = (
        "import _posixsubprocess, os\nr, w = os.pipe()\n"
        "_posixsubprocess.fork_exec([b'/bin/sh', b'-c', b'echo escaped'], [b'/bin/sh'], True, (),"
        " None, None, -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, None, -1, None,"
        " False)"
    )
    result = run_python(code, keep_dir=keep)
    assert not result.ok and "escaped" not in result.stdout
    assert result.error == "blocked: [Errno 1] Operation not permitted"


def test_ten_gigabytes_is_refused_as_memory(keep: Path) -> None:
    result = run_python("data = bytearray(10 * 1024**3)", keep_dir=keep)
    assert not result.ok and result.error == "used more than 512 MB of memory"
    assert "MemoryError" in result.stderr


def test_an_endless_loop_times_out(keep: Path) -> None:
    started = time.monotonic()
    result = run_python(
        "print('spinning', flush=True)\nwhile True:\n    pass", keep_dir=keep, timeout_s=2
    )
    elapsed = time.monotonic() - started
    assert not result.ok and result.error == "timed out after 2 s"
    assert result.stdout == "spinning\n"
    assert 2 <= elapsed < 3.5


def test_a_huge_file_is_cut_off_at_the_limit(keep: Path) -> None:
    code = "with open('big.bin', 'wb') as f:\n    f.write(bytes(3 * 1024 * 1024))"
    result = run_python(code, keep_dir=keep, max_file_mb=1)
    assert not result.ok and result.error == "wrote a file larger than 1 MB"
    assert os.path.getsize(keep / "big.bin") <= 1024 * 1024


def test_the_users_ssh_keys_are_out_of_reach(keep: Path) -> None:
    ssh = Path.home() / ".ssh"
    listing = run_python(f"import os\nprint(os.listdir({str(ssh)!r}))", keep_dir=keep)
    assert not listing.ok and listing.error.startswith("blocked: listing a folder outside")
    key = run_python(f"print(open({str(ssh / 'id_rsa')!r}).read())", keep_dir=keep)
    assert not key.ok and key.error.startswith("blocked: reading outside the sandbox")
    # "~" is the sandbox's own folder: a model writing ~/.ssh finds nothing of the user's.
    home = run_python("import os\nprint(os.path.expanduser('~'))", keep_dir=keep)
    assert home.ok and str(Path.home()) != home.stdout.strip()


@pytest.mark.parametrize(
    "code",
    [
        "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()",
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.sendto(b'x', ('192.0.2.1', 53))",
        "import socket\nsocket.getaddrinfo('example.com', 80)",
    ],
)
def test_listening_sending_and_name_lookups_are_refused(keep: Path, code: str) -> None:
    result = run_python(code, keep_dir=keep)
    assert not result.ok and result.error.startswith("tried to open a network connection")


def test_on_macos_the_child_runs_under_a_seatbelt_profile(monkeypatch, tmp_path: Path) -> None:
    """Not run on a Mac here: checks the command and the profile the Mac would get."""
    from assistant_app.tools import sandbox

    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: f"/usr/bin/{name}")
    command = sandbox._confined(["python3", "-I", "child.py"], tmp_path)
    assert command[:2] == ["sandbox-exec", "-p"] and command[3:] == ["python3", "-I", "child.py"]
    profile = command[2]
    assert "(deny network*)" in profile
    assert f'(deny file-write* (require-not (require-any (subpath "{tmp_path}")' in profile
    assert f'(subpath "{Path.home() / ".ssh"}")' in profile
    assert profile.count("(") == profile.count(")")
    monkeypatch.setattr(sandbox.sys, "platform", "linux")
    assert sandbox._confined(["python3"], tmp_path) == ["python3"]
