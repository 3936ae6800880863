"""The pictures made so far: their settings in SQLite, the PNGs beside it; again and variations."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from assistant_app.core.errors import UserVisibleError
from models.image_meta import ImageRequest, ImageResult, request_again

FOLDER = "images"  # under the data dir: `assistant imagine` and the generate_image tool share it
DB_NAME = "history.sqlite3"
VARIATION_STRENGTH = 0.35  # a variation of the picture itself keeps its composition
_SCHEMA = """CREATE TABLE IF NOT EXISTS generations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL, seed INTEGER NOT NULL, steps INTEGER NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, guidance REAL NOT NULL, model TEXT NOT NULL,
    init_image TEXT NOT NULL, strength REAL NOT NULL, seconds REAL NOT NULL,
    parent INTEGER REFERENCES generations(id) ON DELETE SET NULL, created_at REAL NOT NULL)"""
_COLUMNS = (
    "id, path, prompt, negative_prompt, seed, steps, width, height, guidance, model, "
    "init_image, strength, seconds, parent, created_at"
)


def images_dir(config) -> Path:  # noqa: ANN001 - Config
    """Where generated pictures and their history live: the data dir's images folder."""
    from assistant_app.core.config import data_dir

    return data_dir(config) / FOLDER


@dataclass(frozen=True)
class Generation:
    """One saved picture and the settings that made it (`parent`: the one it varies)."""

    id: int
    path: Path
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    width: int
    height: int
    guidance: float
    model: str
    init_image: Path | None
    strength: float
    seconds: float
    parent: int | None
    created_at: datetime

    def request(self) -> ImageRequest:
        """The request that makes this picture again, exactly (same seed)."""
        return request_again(self)


class ImageHistory:
    """Generated pictures in `folder`: PNGs with their settings in the text chunks, and a SQLite
    index of them for listing, "again with a new seed" and "variations".

    Each call opens its own short connection, so any thread (or the CLI beside the app) may use
    it; writes are single committed statements.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.db_path = self.folder / DB_NAME
        with self._db() as db:
            db.execute(_SCHEMA)

    def add(self, result: ImageResult, parent: int | None = None) -> Generation:
        """Saves the picture as a PNG in the folder and records it; returns the record."""
        if result.image is None:
            raise ValueError("a cancelled generation has no picture to keep")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = _free(self.folder / f"{stamp}-{result.seed}.png")
        result.save(path)
        init = str(result.init_image) if result.init_image is not None else ""
        row = (str(path), result.prompt, result.negative_prompt, result.seed, result.steps,
               result.width, result.height, result.guidance, result.model, init,
               result.strength, result.seconds, parent, time.time())  # fmt: skip
        try:
            with self._db() as db:
                cursor = db.execute(
                    f"INSERT INTO generations ({_COLUMNS}) VALUES (NULL{', ?' * len(row)})", row
                )
                found = int(cursor.lastrowid or 0)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self.get(found)

    def get(self, generation: int) -> Generation:
        """One record; UserVisibleError for an unknown id."""
        rows = self._select("WHERE id = ?", (generation,))
        if not rows:
            raise UserVisibleError(f"No picture {generation} in the image history ({self.folder}).")
        return rows[0]

    def recent(self, limit: int = 50) -> list[Generation]:
        """The newest first."""
        return self._select("ORDER BY id DESC LIMIT ?", (limit,))

    def again(self, generation: int, seed: int | None = None) -> ImageRequest:
        """Everything as before but the seed: a new random one, or `seed`."""
        return replace(self.get(generation).request(), seed=seed)

    def variations(
        self, generation: int, count: int = 4, *, from_picture: bool = False
    ) -> list[ImageRequest]:
        """`count` requests near a picture: the same settings with the next seeds (different
        takes on the prompt), or with `from_picture`, the picture itself redrawn lightly
        (image-to-image at VARIATION_STRENGTH), which keeps its composition."""
        made = self.get(generation)
        base = made.request()
        if from_picture:
            base = replace(base, init_image=made.path, strength=VARIATION_STRENGTH)
        return [replace(base, seed=(made.seed + i) % 2**32) for i in range(1, count + 1)]

    def delete(self, generation: int) -> None:
        """Forgets a picture and deletes its PNG."""
        made = self.get(generation)
        with self._db() as db:
            db.execute("DELETE FROM generations WHERE id = ?", (generation,))
        made.path.unlink(missing_ok=True)

    def _select(self, clause: str, args: tuple) -> list[Generation]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM generations {clause}", args).fetchall()
        return [_generation(row) for row in rows]

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for one transaction; a damaged file becomes a readable error."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.db_path, timeout=5)) as db, db:
                db.execute("PRAGMA foreign_keys=ON")
                yield db
        except sqlite3.DatabaseError as exc:
            raise UserVisibleError(
                f"The image history {self.db_path} cannot be used ({exc}). Move it away and a "
                "new one will be made; the pictures in the folder stay."
            ) from exc


def _generation(row: tuple) -> Generation:
    (gid, path, prompt, negative, seed, steps, width, height, guidance, model, init, strength,
     seconds, parent, created) = row  # fmt: skip
    return Generation(
        gid, Path(path), prompt, negative, seed, steps, width, height, guidance, model,
        Path(init) if init else None, strength, seconds, parent,
        datetime.fromtimestamp(created, UTC),
    )  # fmt: skip


def _free(path: Path) -> Path:
    """`path`, or `stem-2.png`, `stem-3.png`... whichever does not exist yet."""
    found, number = path, 1
    while found.exists():
        number += 1
        found = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return found
