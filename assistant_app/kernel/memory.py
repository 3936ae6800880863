"""Long-term memory: facts the user asks the assistant to remember, in SQLite, across sessions."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

_REMEMBER = re.compile(
    r"^\s*(?:please\s+)?(?:remember|note|keep in mind)\s*(?:that\s+|:\s*)?(?P<fact>.+?)[.!]?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_WORD = re.compile(r"[a-z0-9']+")
_STOP = set(
    "a an the is are was were my your of to in on at and or it that this what who "
    "when where how do does did i you me be for with".split()
)


class Memory:
    """Remembered facts; all of them are recalled while few, the most relevant ones after."""

    def __init__(self, db_path: Path, recall_limit: int = 20) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(db_path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS facts (id INTEGER PRIMARY KEY, text TEXT NOT NULL, "
            "created_at REAL NOT NULL)"
        )
        self._lock = threading.Lock()
        self.recall_limit = recall_limit

    def capture(self, user_text: str) -> str | None:
        """Stores the fact if `user_text` asks to remember something; returns the fact."""
        match = _REMEMBER.match(user_text)
        if not match:
            return None
        fact = _first_to_second_person(match.group("fact").strip())
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO facts (text, created_at) VALUES (?, ?)", (fact, time.time())
            )
        return fact

    def facts(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._db.execute("SELECT id, text FROM facts ORDER BY id"))

    def forget(self, fact_id: int) -> bool:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM facts WHERE id = ?", (fact_id,)).rowcount > 0

    def recall(self, query: str) -> list[str]:
        """Facts for the prompt: all of them while few, else those sharing words with `query`."""
        facts = [text for _, text in self.facts()]
        if len(facts) <= self.recall_limit:
            return facts
        words = _words(query)
        scored = sorted(facts, key=lambda f: len(words & _words(f)), reverse=True)
        return scored[: self.recall_limit]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _first_to_second_person(fact: str) -> str:
    """'my sister is Ann' is stored as 'the user's sister is Ann', unambiguous in a prompt."""
    return re.sub(
        r"\bmy\b",
        "the user's",
        re.sub(r"\bI am\b|\bI'm\b", "the user is", fact),
        flags=re.IGNORECASE,
    )
