"""Text embeddings with sentence-transformers, loaded from the verified store directory."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant_app.core.config import EmbedConfig
from assistant_app.core.errors import ConfigError
from models.store import ModelStore


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU; vectors are L2-normalised."""

    name = "sentence-transformers"

    def __init__(self, model_dir: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        # Two torch threads on two busy cores were 20x slower than one (knowledge index timing).
        torch.set_num_threads(1)
        self._model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
        dims = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dimensions = int(dims())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )


def create_embedder(config: EmbedConfig, store: ModelStore) -> SentenceTransformerEmbedder:
    """The embedder named in the config."""
    if config.engine != "sentence-transformers":
        raise ConfigError(
            f"[embed] engine '{config.engine}' is not known. Valid engines: sentence-transformers."
        )
    return SentenceTransformerEmbedder(str(store.path(config.model)))
