"""A local stand-in for the Hugging Face hub: one fake model repo served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

_RESOLVE = re.compile(r"/(?P<repo>.+?)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class HubStandin:
    """Serves `files` of `repo_id` the way huggingface_hub 2.x expects the hub to.

    huggingface_hub's single-file download makes exactly two kinds of call: HEAD and GET on
    /{repo_id}/resolve/{revision}/{filename} (GET with a Range header when it resumes a broken
    download); no /api/ call. Files of at least `lfs_min_bytes` are described as LFS files
    (ETag and X-Linked-Etag = sha256), smaller ones as git blobs (ETag = git blob sha1).
    `revision` and the commit sha are accepted as revisions. With `token` set the repo is gated
    and needs "Authorization: Bearer <token>". `drop_first_get_after` cuts the first GET after
    that many bytes; `tamper` serves bytes that do not match the ETag.

    Use as a context manager; it yields the endpoint URL. `requests` lists (method, path).
    """

    def __init__(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        revision: str = "main",
        lfs_min_bytes: int = 1024,
        token: str | None = None,
        drop_first_get_after: int | None = None,
        tamper: bool = False,
    ) -> None:
        self.repo_id = repo_id
        self.files = dict(files)
        self.revision = revision
        self.commit = hashlib.sha1(repr(sorted(self.files.items())).encode()).hexdigest()
        self.lfs_min_bytes = lfs_min_bytes
        self.token = token
        self.drop_first_get_after = drop_first_get_after
        self.tamper = tamper
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def etag(self, filename: str) -> str:
        """The ETag the hub gives the file: sha256 for LFS files, git blob sha1 otherwise."""
        data = self.files[filename]
        if len(data) >= self.lfs_min_bytes:
            return hashlib.sha256(data).hexdigest()
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def count(self, method: str) -> int:
        """How many requests with this method were served."""
        with self._lock:
            return sum(1 for seen, _path in self.requests if seen == method)

    def __enter__(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *_exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, method: str, path: str) -> int:
        with self._lock:
            self.requests.append((method, path))
            return sum(1 for seen, _path in self.requests if seen == method)


class _Handler(BaseHTTPRequestHandler):
    """Answers one request against the HubStandin on `self.server.standin`."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the hub; every answer has a Content-Length
    timeout = 5  # idle keep-alive connections end instead of holding a thread forever

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(send_body=False)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(send_body=True)

    def log_message(self, *_args: object) -> None:
        """Quiet: tests read `requests` instead."""

    def _answer(self, send_body: bool) -> None:
        hub: HubStandin = self.server.standin  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        nth = hub._record(self.command, path)
        match = _RESOLVE.fullmatch(path)
        if match is None:
            return self._error(404, None, "Not found")
        repo, revision, filename = (unquote(part) for part in match.groups())
        if repo != hub.repo_id:
            return self._error(404, "RepoNotFound", "Repository not found")
        if hub.token is not None and self.headers.get("Authorization") != f"Bearer {hub.token}":
            return self._error(401, "GatedRepo", "Access to this model is restricted")
        if revision not in (hub.revision, hub.commit):
            return self._error(404, "RevisionNotFound", "Invalid rev id", hub.commit)
        if filename not in hub.files:
            return self._error(404, "EntryNotFound", "Entry not found", hub.commit)
        data = hub.files[filename]
        headers = {"X-Repo-Commit": hub.commit, "ETag": f'"{hub.etag(filename)}"'}
        if len(data) >= hub.lfs_min_bytes:
            headers |= {"X-Linked-Etag": headers["ETag"], "X-Linked-Size": str(len(data))}
        if send_body and hub.tamper:
            data = bytes(byte ^ 0xFF for byte in data)
        start, end = 0, len(data)
        status = 200
        if (wanted := _RANGE.fullmatch(self.headers.get("Range", ""))) is not None:
            start = int(wanted.group(1))
            end = int(wanted.group(2)) + 1 if wanted.group(2) else len(data)
            if start >= len(data) or end <= start:
                return self._error(416, None, "Range not satisfiable")
            status = 206
            headers["Content-Range"] = f"bytes {start}-{min(end, len(data)) - 1}/{len(data)}"
        body = data[start:end]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return
        if self.command == "GET" and nth == 1 and hub.drop_first_get_after is not None:
            self.wfile.write(body[: hub.drop_first_get_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def _error(self, status: int, code: str | None, message: str, commit: str = "") -> None:
        body = f'{{"error": "{message}"}}'.encode()
        self.send_response(status)
        if code is not None:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
