"""Knowledge folders: an incremental SQLite index of the user's files and hybrid search over it."""

from __future__ import annotations

import hashlib
import html
import importlib.util
import io
import logging
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from assistant_app.core.engines import Embedder
from assistant_app.core.errors import ToolError, UserVisibleError
from assistant_app.tools.toolbox import Tool, tool

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".py", ".json", ".csv", ".toml", ".yaml"}
TEXT_SUFFIXES |= {".yml", ".html", ".htm", ".pdf"}
MAX_FILE_BYTES = 2_000_000  # bigger files are mostly logs and dumps, and slow to embed
CHUNK_CHARS = 500  # ~120 tokens: inside MiniLM's 256-token window and small enough to cite
OVERLAP_CHARS = 100  # repeated across a mid-paragraph cut so a sentence is not lost in the seam
RRF_K = 60  # the usual reciprocal-rank-fusion constant: no single list's top rank dominates
SKIP_DIRS = {"node_modules", "__pycache__", "venv"}
# Question words would make BM25 favour any chunk that happens to say "when" or "my".
STOPWORDS = set(
    "a an and are as at be by can do does did for from how i in is it me my of on or our the "
    "to was we what when where which who why will with you your".split()
)
HAS_PYPDF = importlib.util.find_spec("pypdf") is not None

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, folder TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, skipped TEXT);  -- skipped: why a file has no chunks (binary...)
CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, text TEXT NOT NULL,
    embedding BLOB NOT NULL);  -- float32, L2-normalised
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, content='chunks',
    content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
"""


class Chunk(NamedTuple):
    """A piece of a file's text and the 1-based, inclusive line range it came from."""

    start_line: int
    end_line: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A search result. `path` is shown to people (folder name first); `file` is absolute."""

    path: str
    start_line: int
    end_line: int
    text: str
    score: float
    file: Path
    similarity: float = 0.0  # cosine between the query's and the chunk's vectors
    every_term: bool = False  # the chunk holds every word of the query (an exact code, a name)


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did; `skipped` lists (file, reason) for files that are not searchable."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: tuple[tuple[Path, str], ...] = ()


class SkippedFile(Exception):
    """A file has no text to index; the message is the reason shown to the user."""


def chunk_text(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[Chunk]:
    """Cuts text into ~`size`-character chunks, at a paragraph break once a chunk is half full."""
    chunks: list[Chunk] = []
    lines: list[tuple[int, str]] = []  # (line number, text) of the chunk being built; "" = break
    for number, line in _numbered_pieces(text, size):
        used = _length(lines)
        if not line and used >= size // 2:
            chunks.append(_chunk(lines))
            lines = []
        elif line and used + len(line) > size:
            chunks.append(_chunk(lines))
            lines = _tail(lines, overlap)  # cut mid-paragraph: repeat its last short lines
        if line or (lines and lines[-1][1]):
            lines.append((number, line))
    if lines:
        chunks.append(_chunk(lines))
    return chunks


def _numbered_pieces(text: str, size: int) -> Iterator[tuple[int, str]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        line = line.rstrip()
        while len(line) > size:  # minified files, one-line paragraphs: cut at a space
            cut = line.rfind(" ", size // 2, size)
            cut = cut if cut > 0 else size
            yield number, line[:cut]
            line = line[cut:].lstrip()
        yield number, line if line.strip() else ""


def _length(lines: list[tuple[int, str]]) -> int:
    return sum(len(piece) + 1 for _, piece in lines)


def _tail(lines: list[tuple[int, str]], overlap: int) -> list[tuple[int, str]]:
    start = len(lines)
    while start and lines[start - 1][1] and _length(lines[start - 1 :]) <= overlap:
        start -= 1
    return lines[start:]


def _chunk(lines: list[tuple[int, str]]) -> Chunk:
    numbers = [number for number, piece in lines if piece]
    return Chunk(numbers[0], numbers[-1], "\n".join(piece for _, piece in lines).strip("\n"))


def extract_text(path: Path, data: bytes) -> str:
    """The searchable text of a file's bytes; raises SkippedFile when there is none."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(data)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16, as older Windows Notepad saved
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        raise SkippedFile("binary content")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    return _strip_html(text) if suffix in (".html", ".htm") else text


_HTML_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.I | re.S)


def _strip_html(text: str) -> str:
    # Markup becomes a space but keeps its newlines, so line numbers still point into the source.
    text = _HTML_MARKUP.sub(lambda m: " " + "\n" * m.group(0).count("\n"), text)
    lines = (html.unescape(line).replace("\n", " ") for line in text.split("\n"))
    return "\n".join(re.sub(r"\s+", " ", line).strip() for line in lines)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    try:
        return "\n\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    except Exception as exc:  # pypdf raises many types on damaged or encrypted files
        raise SkippedFile(f"unreadable PDF ({type(exc).__name__})") from exc


def _stat_skip_reason(path: Path, size: int, max_bytes: int) -> str:
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        return "unsupported file type"
    if suffix == ".pdf" and not HAS_PYPDF:
        return "PDF support needs pypdf"
    if size > max_bytes:
        return f"larger than {max_bytes / 1e6:g} MB"
    return ""


class KnowledgeIndex:
    """Chunks, embeddings and a full-text index of the files in the user's knowledge folders."""

    def __init__(self, db_path: Path, embedder: Embedder, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.embedder = embedder
        self.max_bytes = max_bytes
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the UI and the chat stage's tool calls, guarded by a lock.
        self._db = sqlite3.connect(db_path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._refreshing = threading.Lock()
        self._vectors: tuple[int, np.ndarray, np.ndarray] | None = None
        self._texts: tuple[tuple, list[str]] = ((), [])
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe, just not durable
        self._db.executescript(SCHEMA)
        identity = f"{embedder.name}:{embedder.dimensions}"
        with self._db:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
            if row and row[0] != identity:  # vectors from another model cannot be compared
                log.info("embedder changed from %s to %s: re-indexing", row[0], identity)
                self._db.execute("DELETE FROM chunks")
                self._db.execute("DELETE FROM files")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (identity,))

    def close(self) -> None:
        self._db.close()

    def add_folder(self, path: Path | str) -> Path:
        """Adds a folder to search; its files are indexed by the next refresh()."""
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise UserVisibleError(f"{folder} is not a folder, so it cannot be searched.")
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO folders VALUES (?)", (str(folder),))
        return folder

    def remove_folder(self, path: Path | str) -> None:
        """Stops searching a folder and forgets what was indexed from it."""
        folder = str(Path(path).expanduser().resolve())
        with self._lock, self._db:
            ids = "SELECT id FROM files WHERE folder = ?"
            self._db.execute(f"DELETE FROM chunks WHERE file_id IN ({ids})", (folder,))
            self._db.execute("DELETE FROM files WHERE folder = ?", (folder,))
            self._db.execute("DELETE FROM folders WHERE path = ?", (folder,))
            self._vectors = None

    def folders(self) -> list[Path]:
        with self._lock:
            rows = self._db.execute("SELECT path FROM folders ORDER BY path").fetchall()
        return [Path(row[0]) for row in rows]

    @property
    def refreshing(self) -> bool:
        return self._refreshing.locked()

    def refresh(self, progress: Callable[[int, int, str], None] | None = None) -> RefreshReport:
        """Brings the index up to date; only files whose size or mtime changed are read."""
        with self._refreshing:
            found, offline = self._walk()
            with self._lock:
                known = {row["path"]: row for row in self._db.execute("SELECT * FROM files")}
            counts = dict.fromkeys(("added", "changed", "removed", "unchanged"), 0)
            for path, row in known.items():
                if Path(path) not in found and row["folder"] not in offline:
                    with self._lock, self._db:
                        self._delete_file(row["id"])
                    counts["removed"] += 1
            skipped: list[tuple[Path, str]] = []
            for done, (path, (folder, info)) in enumerate(sorted(found.items()), 1):
                outcome, reason = self._refresh_file(path, folder, info, known.get(str(path)))
                if outcome == "skipped":
                    skipped.append((path, reason))
                else:
                    counts[outcome] += 1
                if progress:
                    progress(done, len(found), str(path))
            return RefreshReport(**counts, skipped=tuple(skipped))

    def _walk(self) -> tuple[dict[Path, tuple[str, os.stat_result]], set[str]]:
        found: dict[Path, tuple[str, os.stat_result]] = {}
        offline: set[str] = set()  # an unplugged drive keeps its index until it comes back
        for folder in self.folders():
            if not folder.is_dir():
                offline.add(str(folder))
                continue
            for root, dirs, names in os.walk(folder):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
                for name in names:
                    path = Path(root, name)
                    try:
                        info = path.stat()
                    except OSError:  # vanished or unreadable since it was listed
                        continue
                    if not name.startswith(".") and stat.S_ISREG(info.st_mode):
                        found.setdefault(path, (str(folder), info))  # nested folders: first wins
        return found, offline

    def _refresh_file(
        self, path: Path, folder: str, info: os.stat_result, row: sqlite3.Row | None
    ) -> tuple[str, str]:
        reason = _stat_skip_reason(path, info.st_size, self.max_bytes)
        if reason:
            if row is not None:
                with self._lock, self._db:
                    self._delete_file(row["id"])
            return "skipped", reason
        if row is not None and (row["size"], row["mtime_ns"]) == (info.st_size, info.st_mtime_ns):
            return ("skipped", row["skipped"]) if row["skipped"] else ("unchanged", "")
        try:
            data = path.read_bytes()
        except OSError as exc:
            return "skipped", f"unreadable ({exc.strerror or exc})"
        digest = hashlib.sha256(data).hexdigest()
        if row is not None and row["sha256"] == digest:  # touched or copied, not edited
            with self._lock, self._db:
                update = "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?"
                self._db.execute(update, (info.st_size, info.st_mtime_ns, row["id"]))
            return ("skipped", row["skipped"]) if row["skipped"] else ("unchanged", "")
        try:
            chunks, skip = chunk_text(extract_text(path, data)), None
        except SkippedFile as exc:
            chunks, skip = [], str(exc)
        vectors = self._embed([chunk.text for chunk in chunks])  # slow: outside the lock
        with self._lock, self._db:
            if row is not None:
                self._delete_file(row["id"])
            values = (folder, str(path), info.st_size, info.st_mtime_ns, digest, skip)
            file_id = self._db.execute(
                "INSERT INTO files VALUES (NULL,?,?,?,?,?,?)", values
            ).lastrowid
            rows = [(file_id, *c, v.tobytes()) for c, v in zip(chunks, vectors, strict=True)]
            self._db.executemany("INSERT INTO chunks VALUES (NULL,?,?,?,?,?)", rows)
            self._vectors = None
        if skip:
            return "skipped", skip
        return ("changed" if row is not None else "added"), ""

    def _delete_file(self, file_id: int) -> None:
        """Call inside `with self._lock, self._db:`, which makes it part of one transaction."""
        self._db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
        self._db.execute("DELETE FROM files WHERE id = ?", (file_id,))
        self._vectors = None

    def texts(self) -> list[str]:
        """Every indexed chunk's text (the same list until the index changes)."""
        with self._lock:
            key = tuple(self._db.execute("SELECT COUNT(*), MAX(id) FROM chunks").fetchone())
            if self._texts[0] != key:
                self._texts = (key, [row[0] for row in self._db.execute("SELECT text FROM chunks")])
            return self._texts[1]

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dimensions), dtype=np.float32)
        vectors = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        return vectors.reshape(len(texts), self.embedder.dimensions)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The k best chunks: cosine and BM25 rankings merged by reciprocal rank fusion."""
        if not query.strip():
            return []
        query_vector = self._embed([query])[0]
        with self._lock:
            ids, matrix = self._load_vectors()
            if not len(ids):
                return []
            # Every chunk gets a vector rank, so a keyword-only match still has a tie-breaker.
            fused = np.empty(len(ids))
            similarity = matrix @ query_vector
            fused[np.argsort(-similarity)] = 1 / (RRF_K + np.arange(1, len(ids) + 1))
            # Two keyword lists: any term (BM25), and every term, so that a chunk holding the
            # exact code asked for beats one holding a lookalike that embeds closer.
            whole = np.zeros(len(ids), dtype=bool)
            for every in (False, True):
                for rank, chunk_id in enumerate(self._keyword_ranking(query, 10 * k, every), 1):
                    at = min(np.searchsorted(ids, chunk_id), len(ids) - 1)
                    fused[at] += 1 / (RRF_K + rank) if ids[at] == chunk_id else 0
                    whole[at] |= every and ids[at] == chunk_id
            best = np.argsort(-fused)[:k]
            marks = ",".join("?" * len(best))
            rows = self._db.execute(
                "SELECT c.id, f.path, f.folder, c.start_line, c.end_line, c.text FROM chunks c"
                f" JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})",
                [int(ids[i]) for i in best],
            )
            by_id = {row[0]: row for row in rows}  # another process may have just deleted some
        hits = [(by_id.get(int(ids[i])), i) for i in best]
        return [
            Hit(_shown(r[1], r[2]), *r[3:], float(fused[i]), Path(r[1]), float(similarity[i]),
                bool(whole[i]))
            for r, i in hits if r
        ]  # fmt: skip

    def _load_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        # data_version moves when another connection (another app window) commits.
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._vectors is None or self._vectors[0] != version:
            rows = self._db.execute("SELECT id, embedding FROM chunks ORDER BY id").fetchall()
            ids = np.array([row[0] for row in rows], dtype=np.int64)
            blob = b"".join(row[1] for row in rows)
            matrix = np.frombuffer(blob, np.float32).reshape(len(rows), self.embedder.dimensions)
            self._vectors = (version, ids, matrix)
        return self._vectors[1], self._vectors[2]

    def _keyword_ranking(self, query: str, limit: int, every: bool = False) -> list[int]:
        words = re.findall(r"\w+", query.lower())
        terms = [w for w in words if w not in STOPWORDS] or words
        # A code like "QX7-22B" is two tokens to FTS5; the phrase rewards them side by side.
        phrases = [
            " ".join(parts) for t in query.split() if len(parts := re.findall(r"\w+", t)) > 1
        ]
        match = (" AND " if every else " OR ").join(
            f'"{term}"' for term in dict.fromkeys(terms + phrases)
        )
        if not match:
            return []
        sql = "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?"
        return [row[0] for row in self._db.execute(sql, (match, limit))]


def citation(hit: Hit) -> str:
    """Where a hit came from, as `notes/trip.md:12-18` (or `:12` for one line)."""
    end = f"-{hit.end_line}" if hit.end_line != hit.start_line else ""
    return f"{hit.path}:{hit.start_line}{end}"


def _shown(path: str, folder: str) -> str:
    return Path(path).relative_to(Path(folder).parent).as_posix()


def search_files_tool(index: KnowledgeIndex, k: int = 5, hit_chars: int = 800) -> Tool:
    """The model's tool for searching the knowledge folders."""

    @tool(untrusted_output=True, user_files=True)
    def search_files(query: str) -> str:
        """Search the user's own notes and documents for passages about something.

        query: what to look for, as a question, keywords or an exact code or name
        """
        if not index.folders():
            raise ToolError("no knowledge folders are set up; the user can add one in Settings")
        if not index.refreshing:  # else search what is indexed rather than wait for it
            index.refresh()  # only stats files, unless some changed since the last look
        hits = index.search(query, k)
        if not hits:
            return f"No passages in the knowledge folders match '{query}'."
        return "\n\n".join(f"[{citation(hit)}] {_bounded(hit.text, hit_chars)}" for hit in hits)

    return search_files


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
