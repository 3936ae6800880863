"""Image-generation models for the catalog: few-step diffusers pipelines and the tiny decoder."""

from __future__ import annotations

from dataclasses import dataclass

from models.catalog_types import ModelEntry, ModelFile

# No text-to-image weights exist on PyPI (docs/MODELS.md), so these come from the hub only, and
# with no hub reachable when they were written their sha256 values could not be recorded: each
# file's hash is pinned on its first download (see ModelFile). Sizes are the hub's listed sizes
# as remembered, rounded: estimates for the disk-space check and `models list` only. Repository
# and file names follow the diffusers layout the repositories were published in, not checked
# online; a wrong one fails the pull with "the repository has no file ...", never silently.
#
# Each entry is one diffusers pipeline folder (model_index.json and a folder per component).
# Components model_index.json names but the entry leaves out (the safety checker and its
# feature extractor) are loaded as None. Weights named *.fp16.safetensors are loaded with
# variant "fp16" and widened to the configured dtype: half the download, the same pictures.

DIFFUSERS = "diffusers"  # the engine of the image generators
TINY_DECODER_ENGINE = "taesd"
TINY_DECODER = "taesd"  # the catalog name the generator looks for when [image] tiny_decoder


@dataclass(frozen=True)
class Recommended:
    """How a model is meant to be run: denoising steps, guidance scale and native size."""

    steps: int
    guidance: float
    size: tuple[int, int] = (512, 512)


# Used when [image] steps = 0 or guidance is negative; the tiny test models get FALLBACK.
RECOMMENDED: dict[str, Recommended] = {
    "sd-turbo": Recommended(1, 0.0),  # 1-4 steps, no guidance (model card)
    "sdxs-512-0.9": Recommended(1, 0.0),  # one step, guidance 0 (model card)
    "bk-sdm-tiny": Recommended(20, 7.5),  # not few-step: PNDM, 25-50 steps on its card
}
FALLBACK = Recommended(2, 0.0)


def recommended(name: str) -> Recommended:
    """The way the named model is meant to be run (FALLBACK for models not listed)."""
    return RECOMMENDED.get(name, FALLBACK)


_TOKENIZER = (
    ("tokenizer/merges.txt", 525_000),
    ("tokenizer/special_tokens_map.json", 500),
    ("tokenizer/tokenizer_config.json", 800),
    ("tokenizer/vocab.json", 1_060_000),
)


def _pipeline(*weights: tuple[str, int]) -> tuple[ModelFile, ...]:
    """A Stable Diffusion pipeline folder: its small configs, tokenizer and the given weights."""
    configs = (
        ("model_index.json", 600),
        ("scheduler/scheduler_config.json", 600),
        ("text_encoder/config.json", 700),
        ("unet/config.json", 1_900),
        ("vae/config.json", 800),
    )
    found = sorted((*configs, *_TOKENIZER, *weights))
    return tuple(ModelFile(name, size, "", hub_path=name) for name, size in found)


def image_entries() -> tuple[ModelEntry, ...]:
    """The catalog entries for image generation."""
    return (
        ModelEntry(
            name="sd-turbo",
            role="image",
            engine=DIFFUSERS,
            license="Stability AI Community License (free below USD 1M revenue a year; see the "
            "model card and stability.ai/license)",
            description="SD-Turbo (SD 2.1 distilled), 512 px in 1-4 steps, fp16 weights: "
            "the default image model.",
            files=_pipeline(
                ("text_encoder/model.fp16.safetensors", 681_000_000),
                ("unet/diffusion_pytorch_model.fp16.safetensors", 1_730_000_000),
                ("vae/diffusion_pytorch_model.fp16.safetensors", 167_000_000),
            ),
            hub_repo="stabilityai/sd-turbo",
        ),
        ModelEntry(
            name="sdxs-512-0.9",
            role="image",
            engine=DIFFUSERS,
            license="OpenRAIL++ (as on the model card; check it before commercial use)",
            description="SDXS-512 0.9: one-step 512 px, a pruned UNet and a tiny autoencoder.",
            files=_pipeline(
                ("text_encoder/model.safetensors", 1_360_000_000),
                ("unet/diffusion_pytorch_model.safetensors", 1_280_000_000),
                ("vae/diffusion_pytorch_model.safetensors", 10_000_000),
            ),
            hub_repo="IDKiro/sdxs-512-0.9",
        ),
        ModelEntry(
            name="bk-sdm-tiny",
            role="image",
            engine=DIFFUSERS,
            license="CreativeML OpenRAIL-M; gated: accept it on the model page and log in "
            "(`hf auth login`) before pulling",
            description="BK-SDM-Tiny (SD 1.4 with a block-pruned UNet): small, but 20+ steps with "
            "guidance, so slower per picture than the turbo models.",
            files=_pipeline(
                ("text_encoder/model.safetensors", 492_000_000),
                ("unet/diffusion_pytorch_model.safetensors", 1_290_000_000),
                ("vae/diffusion_pytorch_model.safetensors", 335_000_000),
            ),
            hub_repo="nota-ai/bk-sdm-tiny",
        ),
        ModelEntry(
            name=TINY_DECODER,
            role="image",
            engine=TINY_DECODER_ENGINE,
            license="MIT",
            description="TAESD, the tiny autoencoder for SD 1.x/2.x latents: decodes in well under "
            "a second where the full VAE takes most of a minute on a laptop CPU.",
            files=tuple(
                ModelFile(name, size, "", hub_path=name)
                for name, size in (
                    ("config.json", 600),
                    ("diffusion_pytorch_model.safetensors", 9_800_000),
                )
            ),
            hub_repo="madebyollin/taesd",
        ),
    )
