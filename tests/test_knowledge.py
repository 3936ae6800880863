"""Knowledge folders: chunking, incremental refresh and hybrid search (fake and real embedder)."""

from __future__ import annotations

import os
import re
import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant_app.core.errors import ToolError, UserVisibleError
from assistant_app.core.messages import ToolCall
from assistant_app.storage.knowledge import (
    HAS_PYPDF,
    KnowledgeIndex,
    chunk_text,
    citation,
    extract_text,
    search_files_tool,
)
from assistant_app.tools.toolbox import ToolBox

TRIP = (
    "# Lyon weekend\n"
    "\n"
    "Hotel: Le Petit Louis, two nights.\n"
    "The train to Lyon leaves at 08:15 from platform 4.\n"
    "Bring the rail pass.\n"
)
RECIPES = (
    "# Bread\n\nSourdough: feed the starter the night before; 500 g flour, 350 g water.\n"
    "Bake at 240 degrees for 40 minutes with the lid on, then 15 without.\n"
)
BUDGET = "month,rent,food,travel\njanuary,900,310,120\nfebruary,900,280,95\n"
HOTEL = (
    "Hotel booking for the conference in Porto.\n"
    "Check-in after 15:00, breakfast included.\n"
    "\n"
    "Booking reference QX7-22B, paid by card.\n"
)


class HashEmbedder:
    """Bag-of-words hashed into 256 dimensions: deterministic, instant, word overlap only."""

    name = "hash-bow"
    dimensions = 256

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % self.dimensions] += 1
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embedded(self) -> int:
        return sum(len(call) for call in self.calls)


def make_notes(root: Path) -> Path:
    notes = root / "notes"
    notes.mkdir()
    (notes / "trip.md").write_text(TRIP)
    (notes / "recipes.md").write_text(RECIPES)
    (notes / "budget.csv").write_text(BUDGET)
    (notes / "hotel.txt").write_text(HOTEL)
    return notes


def edit(path: Path, text: str) -> None:
    """Writes text and moves the mtime on, since a fast rewrite can keep the same mtime_ns."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def chunk_count(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM chunks").fetchone()[0]


@pytest.fixture
def fake_index(tmp_path: Path) -> tuple[KnowledgeIndex, HashEmbedder, Path]:
    embedder = HashEmbedder()
    index = KnowledgeIndex(tmp_path / "db" / "knowledge.sqlite", embedder)
    notes = make_notes(tmp_path)
    index.add_folder(notes)
    yield index, embedder, notes
    index.close()


# Chunking


def test_short_text_is_one_chunk_with_its_line_range() -> None:
    [chunk] = chunk_text(TRIP)
    assert (chunk.start_line, chunk.end_line) == (1, 5)
    assert chunk.text == TRIP.strip()


def test_chunks_break_at_paragraphs_and_keep_line_numbers() -> None:
    paragraphs = [f"Paragraph {p} line {i}" + " word" * 12 for p in range(6) for i in range(3)]
    lines = []
    for i, line in enumerate(paragraphs):
        lines.append(line)
        if i % 3 == 2:
            lines.append("")
    text = "\n".join(lines)
    chunks = chunk_text(text, size=500, overlap=100)
    assert len(chunks) > 1
    source = text.split("\n")
    for chunk in chunks:
        assert len(chunk.text) <= 600
        # The text is exactly the source lines it cites.
        assert chunk.text == "\n".join(source[chunk.start_line - 1 : chunk.end_line])
        # Cut between paragraphs: each chunk starts a paragraph.
        assert chunk.text.startswith("Paragraph") and " line 0 " in chunk.text.split("\n")[0]
    covered = {n for c in chunks for n in range(c.start_line, c.end_line + 1)}
    assert {n for n, line in enumerate(source, 1) if line} <= covered


def test_a_long_paragraph_is_cut_with_a_small_overlap() -> None:
    text = "\n".join(f"Sentence number {i} of one long paragraph." for i in range(40))
    chunks = chunk_text(text, size=500, overlap=100)
    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start_line <= before.end_line  # a line or two repeated
        assert before.end_line - after.start_line < 3


def test_a_very_long_line_is_sliced_and_every_slice_cites_that_line() -> None:
    text = "intro\n" + " ".join(f"w{i}" for i in range(600)) + "\noutro"
    chunks = chunk_text(text, size=500)
    assert all(len(c.text) <= 510 for c in chunks)
    assert [c.end_line for c in chunks[1:-1]] == [2] * (len(chunks) - 2)
    assert [c.start_line for c in chunks[2:-1]] == [2] * (len(chunks) - 3)
    assert "w599" in "".join(c.text for c in chunks)


def test_html_is_stripped_but_lines_still_match_the_source() -> None:
    page = "<html><head><style>\nbody {}\n</style></head>\n<body>\n<p>Gate&nbsp;B12</p>\n</body>"
    text = extract_text(Path("a.html"), page.encode())
    assert text.split("\n")[4] == "Gate B12"  # entities decoded, the no-break space folded
    assert "body {}" not in text and "<p>" not in text


# Incremental refresh with the fake embedder


def test_refresh_indexes_then_only_stats(fake_index) -> None:
    index, embedder, notes = fake_index
    calls: list[tuple[int, int, str]] = []
    report = index.refresh(progress=lambda done, total, path: calls.append((done, total, path)))
    assert (report.added, report.changed, report.removed, report.unchanged) == (4, 0, 0, 0)
    assert [c[:2] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    embedded = embedder.embedded()
    again = index.refresh()
    assert (again.added, again.changed, again.unchanged) == (0, 0, 4)
    assert embedder.embedded() == embedded


def test_a_touched_file_is_hashed_not_reembedded(fake_index) -> None:
    index, embedder, notes = fake_index
    index.refresh()
    embedded = embedder.embedded()
    edit(notes / "trip.md", TRIP)  # same bytes, newer mtime
    report = index.refresh()
    assert (report.changed, report.unchanged) == (0, 4)
    assert embedder.embedded() == embedded


def test_an_edited_file_is_reindexed_and_old_text_is_gone(fake_index) -> None:
    index, _, notes = fake_index
    index.refresh()
    edit(notes / "trip.md", TRIP.replace("08:15", "09:40"))
    report = index.refresh()
    assert (report.added, report.changed, report.unchanged) == (0, 1, 3)
    texts = " ".join(hit.text for hit in index.search("train Lyon leaves", k=10))
    assert "09:40" in texts and "08:15" not in texts


def test_a_deleted_file_loses_its_chunks_in_both_indexes(fake_index, tmp_path: Path) -> None:
    index, _, notes = fake_index
    index.refresh()
    before = chunk_count(tmp_path / "db" / "knowledge.sqlite")
    (notes / "hotel.txt").unlink()
    report = index.refresh()
    assert (report.removed, report.unchanged) == (1, 3)
    assert chunk_count(tmp_path / "db" / "knowledge.sqlite") == before - 1
    assert all(hit.path != "notes/hotel.txt" for hit in index.search("QX7-22B booking", k=10))
    assert index._keyword_ranking("QX7-22B", 10) == []


def test_binary_large_unsupported_and_hidden_files_are_skipped(fake_index) -> None:
    index, _, notes = fake_index
    (notes / "scan.txt").write_bytes(b"\x89PNG\r\n\x00\x00\x00garbage")
    (notes / "huge.md").write_text("x" * 2_100_000)
    (notes / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (notes / "paper.pdf").write_bytes(b"%PDF-1.4")
    (notes / ".secret.md").write_text("hidden")
    (notes / ".git").mkdir()
    (notes / ".git" / "HEAD").write_text("ref: main")
    report = index.refresh()
    reasons = {path.name: reason for path, reason in report.skipped}
    assert reasons["scan.txt"] == "binary content"
    assert reasons["huge.md"] == "larger than 2 MB"
    assert reasons["photo.jpg"] == "unsupported file type"
    if not HAS_PYPDF:
        assert reasons["paper.pdf"] == "PDF support needs pypdf"
    assert ".secret.md" not in reasons and "HEAD" not in reasons
    assert report.added == 4
    # A skipped binary is remembered: the next refresh neither reads nor re-reports it differently.
    assert dict((p.name, r) for p, r in index.refresh().skipped) == reasons


def test_a_file_that_becomes_binary_loses_its_chunks(fake_index) -> None:
    index, _, notes = fake_index
    index.refresh()
    edit(notes / "hotel.txt", "\x00\x01 QX7-22B")
    report = index.refresh()
    assert [(p.name, r) for p, r in report.skipped] == [("hotel.txt", "binary content")]
    assert index._keyword_ranking("QX7-22B", 10) == []


def test_keyword_search_finds_an_exact_code(fake_index) -> None:
    index, _, _ = fake_index
    index.refresh()
    [hit] = index.search("QX7-22B", k=1)
    assert (hit.path, hit.start_line, hit.end_line) == ("notes/hotel.txt", 1, 4)
    assert citation(hit) == "notes/hotel.txt:1-4"
    assert hit.file == (index.folders()[0] / "hotel.txt")
    assert hit.every_term and -1.0 <= hit.similarity <= 1.0


def test_index_survives_reopening_and_remove_folder_forgets(tmp_path: Path) -> None:
    notes = make_notes(tmp_path)
    db = tmp_path / "k.sqlite"
    first = KnowledgeIndex(db, HashEmbedder())
    first.add_folder(notes)
    first.refresh()
    first.close()
    second = KnowledgeIndex(db, HashEmbedder())
    assert second.folders() == [notes.resolve()]
    assert second.search("sourdough starter", k=1)[0].path == "notes/recipes.md"
    assert second.refresh().unchanged == 4
    second.remove_folder(notes)
    assert second.folders() == [] and second.search("sourdough") == []
    assert chunk_count(db) == 0


def test_a_different_embedder_forces_a_reindex(tmp_path: Path) -> None:
    notes = make_notes(tmp_path)
    index = KnowledgeIndex(tmp_path / "k.sqlite", HashEmbedder())
    index.add_folder(notes)
    index.refresh()
    index.close()
    other = HashEmbedder()
    other.dimensions = 128  # type: ignore[misc]
    other.embed = lambda texts: HashEmbedder.embed(other, texts)[:, :128]  # type: ignore[method-assign]
    reopened = KnowledgeIndex(tmp_path / "k.sqlite", other)
    assert reopened.refresh().added == 4


def test_adding_a_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    index = KnowledgeIndex(tmp_path / "k.sqlite", HashEmbedder())
    with pytest.raises(UserVisibleError):
        index.add_folder(tmp_path / "nope")


def test_tool_refreshes_and_cites(fake_index) -> None:
    index, _, notes = fake_index
    found = search_files_tool(index, hit_chars=60)
    assert found.name == "search_files" and found.untrusted_output
    assert found.parameters["required"] == ["query"]
    text = ToolBox([found]).run(ToolCall("search_files", {"query": "QX7-22B"}))
    assert text.startswith("[notes/hotel.txt:1-4] Hotel booking")
    assert all(len(part) < 60 + 30 for part in text.split("\n\n"))
    (notes / "new.md").write_text("The dentist appointment is on Tuesday.")
    assert "[notes/new.md:1]" in found.function(query="dentist appointment")


def test_tool_searches_without_waiting_for_a_running_refresh(fake_index) -> None:
    index, _, notes = fake_index
    index.refresh()
    (notes / "new.md").write_text("The dentist appointment is on Tuesday.")
    with index._refreshing:  # as if the settings page were indexing a big folder
        text = search_files_tool(index).function(query="QX7-22B")
    assert text.startswith("[notes/hotel.txt:1-4]") and "new.md" not in text


def test_tool_without_folders_tells_the_model(tmp_path: Path) -> None:
    found = search_files_tool(KnowledgeIndex(tmp_path / "k.sqlite", HashEmbedder()))
    with pytest.raises(ToolError, match="no knowledge folders"):
        found.function(query="anything")


# The real embedder (all-MiniLM-L6-v2)


@pytest.fixture(scope="module")
def real_embedder(real_store):
    from assistant_app.core.config import Config
    from models.embed import create_embedder

    return create_embedder(Config().embed, real_store)


@pytest.fixture
def real_index(real_embedder, tmp_path: Path) -> tuple[KnowledgeIndex, Path]:
    index = KnowledgeIndex(tmp_path / "knowledge.sqlite", real_embedder)
    notes = make_notes(tmp_path)
    index.add_folder(notes)
    index.refresh()
    yield index, notes
    index.close()


@pytest.mark.models
def test_real_question_finds_the_train_line(real_index) -> None:
    index, _ = real_index
    hits = index.search("When does my train leave?")
    assert hits[0].path == "notes/trip.md"
    assert hits[0].start_line <= 4 <= hits[0].end_line
    assert index.search("how long do I bake the bread")[0].path == "notes/recipes.md"


@pytest.mark.models
def test_real_edit_replaces_the_old_answer(real_index) -> None:
    index, notes = real_index
    edit(notes / "trip.md", TRIP.replace("08:15", "09:40"))
    report = index.refresh()
    assert (report.changed, report.unchanged, report.added, report.removed) == (1, 3, 0, 0)
    hits = index.search("When does my train leave?")
    assert hits[0].path == "notes/trip.md" and "09:40" in hits[0].text
    assert not any("08:15" in hit.text for hit in hits)


@pytest.mark.models
def test_real_delete_and_skips(real_index, tmp_path: Path) -> None:
    index, notes = real_index
    (notes / "recipes.md").unlink()
    (notes / "blob.md").write_bytes(b"\x00" * 100)
    (notes / "dump.txt").write_text("y" * 2_000_001)
    report = index.refresh()
    assert report.removed == 1
    assert {p.name: r for p, r in report.skipped} == {
        "blob.md": "binary content",
        "dump.txt": "larger than 2 MB",
    }
    assert all(hit.path != "notes/recipes.md" for hit in index.search("sourdough bread", k=10))


@pytest.mark.models
def test_real_exact_code_comes_first(real_index) -> None:
    index, notes = real_index
    # Lookalike codes: MiniLM alone ranks this file above hotel.txt for "QX7-22B" (0.40 vs 0.29).
    (notes / "codes.md").write_text("Wifi: KJ2-88Z\nLocker QX9-22A\nParcel tracking QX7-23B\n")
    index.refresh()
    assert index.search("QX7-22B")[0].path == "notes/hotel.txt"
    assert index.search("what is the booking code QX7-22B for?")[0].path == "notes/hotel.txt"


@pytest.mark.models
def test_real_tool_output_has_the_citation(real_index) -> None:
    index, _ = real_index
    text = search_files_tool(index).function(query="When does my train leave?")
    assert text.startswith("[notes/trip.md:1-5]") and "08:15" in text


@pytest.mark.models
def test_real_relevance_keeps_notes_questions_and_drops_the_rest(real_index) -> None:
    from assistant_app.core.config import Config
    from assistant_app.kernel.session import Retriever

    index, _ = real_index
    retrieve = Retriever(index, Config().embed.relevance)
    assert retrieve("When does my train leave?")[0][0].startswith("notes/trip.md")
    assert retrieve("QX7-22B")  # every word of the message is in a note
    for other in ("What is 17 times 23?", "Write a haiku about autumn rain.",
                  "Plot y = x^2 for x from -5 to 5."):  # fmt: skip
        assert retrieve(other) == [], other
