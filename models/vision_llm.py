"""Vision-language models: a GGUF and its projector read an image through llama-cpp-python."""

from __future__ import annotations

import base64
import logging
import secrets
from pathlib import Path
from typing import Any

from assistant_app.core.cancel import CancelToken
from assistant_app.core.errors import ConfigError, ModelUnavailable, UserVisibleError
from models import compute
from models.catalog import ModelEntry, ModelFile
from models.store import ModelStore

log = logging.getLogger(__name__)

# Catalog engine -> llama-cpp-python chat handler (llama_cpp.llama_chat_format), each built with
# clip_model_path = the projector. The handler carries the model's prompt format and image slot.
HANDLERS = {
    "llama-cpp-mtmd": "MTMDChatHandler",  # generic: the GGUF's own chat template
    "llama-cpp-qwen25vl": "Qwen25VLChatHandler",
    "llama-cpp-moondream": "MoondreamChatHandler",
    "llama-cpp-llava15": "Llava15ChatHandler",
    "llama-cpp-llava16": "Llava16ChatHandler",
    "llama-cpp-nanollava": "NanoLlavaChatHandler",
    "llama-cpp-minicpmv26": "MiniCPMv26ChatHandler",
}
_IMAGE_TYPES = (  # magic bytes -> MIME type, for the data URI
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
MAX_DESCRIPTION_CHARS = 3000  # a reading longer than this is cut: it only supplements OCR

SKETCH_PROMPT = (
    "This image is a hand-drawn sketch of a web page. List every element you see, top to "
    "bottom, one per line, as: kind | text | position. kind is one of heading, text, button, "
    "input, checkbox, textarea, image, link, navigation, list. text is the exact words written "
    "on or in the element (empty if none). position is top/middle/bottom and left/center/right. "
    "Only list what is drawn; do not write any HTML."
)


def sketch_prompt() -> str:
    """The question put to the vision model about a web page sketch."""
    return SKETCH_PROMPT


def handler_class(engine: str) -> type:
    """The llama-cpp-python chat handler class for a catalog engine; ConfigError if unknown."""
    if engine not in HANDLERS:
        raise ConfigError(
            f"vision engine '{engine}' is not known. Valid engines: {', '.join(HANDLERS)}."
        )
    from llama_cpp import llama_chat_format

    found = getattr(llama_chat_format, HANDLERS[engine], None)
    if found is None:
        raise ModelUnavailable(
            engine,
            f"this llama-cpp-python has no {HANDLERS[engine]}",
            fix="run scripts/setup to install the llama-cpp-python the app was built with.",
        )
    return found


def model_and_projector(entry: ModelEntry) -> tuple[ModelFile, ModelFile]:
    """The language-model file and the image-projector file of a vision entry."""
    projector = [f for f in entry.files if f.name == entry.projector]
    models = [f for f in entry.files if f.name != entry.projector]
    if entry.role != "vlm" or len(projector) != 1 or len(models) != 1:
        raise ConfigError(f"'{entry.name}' is not a vision model with one projector file.")
    return models[0], projector[0]


def image_data_uri(image: bytes | Path) -> str:
    """The image as a data: URI (the handlers fetch any other URL from the network)."""
    data = Path(image).read_bytes() if isinstance(image, Path | str) else bytes(image)
    mime = next((m for magic, m in _IMAGE_TYPES if data.startswith(magic)), None)
    if mime is None:
        raise UserVisibleError("The vision model needs a PNG or JPEG image.")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class LlamaVisionDescriber:
    """A vision GGUF with its projector, run by llama-cpp-python's multimodal chat handler."""

    def __init__(
        self,
        gguf: Path,
        projector: Path,
        engine: str,
        *,
        name: str = "",
        threads: int = 2,
        context_tokens: int = 8192,
        max_reply_tokens: int = 512,
        temperature: float = 0.1,
    ) -> None:
        from llama_cpp import Llama

        self.name = name or gguf.stem
        self._max_tokens = max_reply_tokens
        self._temperature = temperature
        handler_type = handler_class(engine)
        try:
            handler = handler_type(clip_model_path=str(projector), verbose=False)
            self._llm = Llama(
                model_path=str(gguf),
                chat_handler=handler,
                n_ctx=context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelUnavailable(
                self.name,
                f"llama.cpp could not load {gguf} with projector {projector} ({exc})",
                fix=f"run `assistant models verify {self.name}`.",
            ) from None

    def describe(self, image: bytes | Path, prompt: str, cancel: CancelToken) -> str:
        """The model's answer to `prompt` about the image; '' when cancelled.

        The answer is untrusted text read from the image: callers fence it. Cancellation is
        checked per token; encoding the image itself cannot be interrupted. It all runs on
        the thread that evaluates for every model (models/compute.py): the projector's
        encoder evaluates outside `eval`."""
        return compute.run(lambda: self._describe(image, prompt, cancel))

    def _describe(self, image: bytes | Path, prompt: str, cancel: CancelToken) -> str:
        content = [
            {"type": "image_url", "image_url": {"url": image_data_uri(image)}},
            {"type": "text", "text": prompt},
        ]
        stream = self._llm.create_chat_completion(
            messages=[{"role": "user", "content": content}],
            stream=True,
            max_tokens=self._max_tokens,
            temperature=self._temperature,
        )
        written: list[str] = []
        try:
            for chunk in stream:
                if cancel.cancelled:
                    return ""
                written.append(_delta_text(chunk))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        return "" if cancel.cancelled else "".join(written).strip()


def _delta_text(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


def combine_views(layout_description: str, vlm_description: str, *, marker: str = "") -> str:
    """The sketch as the page writer should see it: the OCR layout, plus the vision model's
    reading when there is one. Both are fenced between `<<marker>>` lines (a fresh random
    marker if none is given) as data read from the image; the marker is stripped from the
    texts so they cannot close their fence."""
    marker = marker or secrets.token_hex(4)
    layout = layout_description.replace(marker, "")
    reading = vlm_description.replace(marker, "").strip()[:MAX_DESCRIPTION_CHARS]
    block = f"<<{marker}>>\n{layout}\n<<{marker}>>"
    if not reading:
        return block
    return (
        f"{block}\nA vision model's reading of the same sketch (kind | text | position). It may "
        "add elements the layout above missed; where the two disagree on a text, prefer the "
        f"layout's exact text:\n<<{marker}>>\n{reading}\n<<{marker}>>"
    )


def create_vision_describer(
    name: str,
    store: ModelStore,
    *,
    threads: int = 2,
    context_tokens: int = 8192,
    max_reply_tokens: int = 512,
) -> LlamaVisionDescriber | None:
    """The vision model `name` on its verified files; None when `name` is empty.

    Never downloads: a model not pulled yet (or damaged) raises ModelUnavailable with the pull
    command, since vision models come from the Hugging Face hub only."""
    if not name:
        return None
    vision = [e.name for e in store.entries.values() if e.role == "vlm"]
    try:
        entry = store.find(name)
    except KeyError:
        raise ConfigError(
            f"[sketch] vision_model '{name}' is not in the catalog. Vision models: "
            f"{', '.join(vision) or 'none'}; or leave it empty for OCR and layout only."
        ) from None
    if entry.role != "vlm":
        raise ConfigError(
            f"[sketch] vision_model '{name}' is a {entry.role} model, not a vision model. "
            f"Vision models: {', '.join(vision) or 'none'}."
        )
    model_file, projector_file = model_and_projector(entry)
    states = {s.file: s.state for s in store.status(name)}
    if set(states.values()) != {"ok"}:
        problem = ", ".join(f"{f} is {state}" for f, state in states.items() if state != "ok")
        raise ModelUnavailable(
            name,
            f"it is not downloaded ({problem})",
            looked_in=str(store.model_dir(name)),
            fix=f"run `assistant models pull {name}` (about {entry.size / 1e9:.1f} GB from the "
            "Hugging Face hub: it needs the network once), or leave [sketch] vision_model empty.",
        )
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(
            name, f"llama-cpp-python is missing ({exc})", fix="run scripts/setup to install it."
        ) from None
    folder = store.model_dir(name)
    return LlamaVisionDescriber(
        folder / model_file.name,
        folder / projector_file.name,
        entry.engine,
        name=name,
        threads=threads,
        context_tokens=context_tokens,
        max_reply_tokens=max_reply_tokens,
    )
