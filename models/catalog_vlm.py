"""Vision-language GGUFs for the catalog: a model and its image projector, from the hub only."""

from __future__ import annotations

from models.catalog_types import ModelEntry, ModelFile

# None of these is on PyPI and no hub was reachable when they were written, so their sha256
# values could not be recorded: each file's hash is pinned on its first download (see
# ModelFile). Sizes are the hub's listed sizes, rounded: estimates for the disk-space check and
# `models list` only. Repository and file names were taken from the hub's listings as
# remembered or quoted in public pages, not checked online; a wrong one fails the pull with
# "the repository has no file ...", never silently. A revision pinned to a commit makes the
# first download reproducible; "main" follows the repository.
#
# `engine` names the llama-cpp-python chat handler (models/vision_llm.py maps it to a class);
# the first file is the language model, `projector` names the image projector (mmproj).


def _gguf_pair(model: tuple[str, int], projector: tuple[str, int]) -> tuple[ModelFile, ...]:
    return tuple(ModelFile(name, size, "", hub_path=name) for name, size in (model, projector))


VLM_ENTRIES: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="smolvlm-500m-instruct",
        role="vlm",
        engine="llama-cpp-mtmd",  # the generic handler: the GGUF's own chat template
        license="Apache-2.0",
        description="SmolVLM 500M Instruct, GGUF Q8_0 + Q8_0 projector: the small, quick reader.",
        files=_gguf_pair(
            ("SmolVLM-500M-Instruct-Q8_0.gguf", 437_000_000),
            ("mmproj-SmolVLM-500M-Instruct-Q8_0.gguf", 109_000_000),
        ),
        hub_repo="ggml-org/SmolVLM-500M-Instruct-GGUF",
        projector="mmproj-SmolVLM-500M-Instruct-Q8_0.gguf",
    ),
    ModelEntry(
        name="qwen2.5-vl-3b-instruct",
        role="vlm",
        engine="llama-cpp-qwen25vl",
        license="Qwen Research License (qwen-research; not Apache-2.0), see the model card",
        description="Qwen2.5-VL 3B Instruct, GGUF Q4_K_M + Q8_0 projector: reads text best.",
        files=_gguf_pair(
            ("Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf", 1_930_000_000),
            ("mmproj-Qwen2.5-VL-3B-Instruct-Q8_0.gguf", 845_000_000),
        ),
        hub_repo="ggml-org/Qwen2.5-VL-3B-Instruct-GGUF",
        projector="mmproj-Qwen2.5-VL-3B-Instruct-Q8_0.gguf",
    ),
    ModelEntry(
        name="moondream2",
        role="vlm",
        engine="llama-cpp-moondream",
        license="Apache-2.0",
        description="moondream2 (2024 GGUF release), f16 text model + f16 projector.",
        files=_gguf_pair(
            ("moondream2-text-model-f16.gguf", 2_840_000_000),
            ("moondream2-mmproj-f16.gguf", 879_000_000),
        ),
        hub_repo="vikhyatk/moondream2",
        # A commit whose listing holds both GGUFs; later revisions of the repo changed format.
        hub_revision="ea7d26c812cbef049b6c399103f195fd052e24e9",
        projector="moondream2-mmproj-f16.gguf",
    ),
    ModelEntry(
        name="llava-v1.5-7b",
        role="vlm",
        engine="llama-cpp-llava15",
        license="Llama 2 Community License (LLaVA 1.5 on Vicuna/Llama 2), see the model card",
        description="LLaVA 1.5 7B, GGUF Q4_K + f16 projector: the classic, large and slow.",
        files=_gguf_pair(
            ("ggml-model-q4_k.gguf", 4_080_000_000),
            ("mmproj-model-f16.gguf", 624_000_000),
        ),
        hub_repo="mys/ggml_llava-v1.5-7b",
        hub_revision="9b713a64048c7f982ec3969e60e9f61f7a2730c2",
        projector="mmproj-model-f16.gguf",
    ),
)
