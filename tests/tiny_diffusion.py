"""A tiny, randomly initialised Stable Diffusion pipeline built offline, laid out like a real one.

`save_tiny_pipeline(folder)` writes what `StableDiffusionPipeline.save_pretrained` writes for
SD-Turbo: model_index.json, scheduler/, text_encoder/, tokenizer/ (vocab.json + merges.txt, as
on the hub), unet/, vae/. `tiny_store(root)` puts it in a model store under a catalog entry whose
files and hashes are the saved ones, so it loads through the same code path a pulled model
takes. Its pictures are noise-like patterns: good for plumbing, never for judging quality.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from models.catalog import ModelEntry, ModelFile

TINY_MODEL = "tiny-sd"
TINY_DECODER = "taesd"  # the catalog name the generator looks for; here a tiny random one
LATENT_FACTOR = 8  # like SD: three down-sampling steps in the VAE


def _byte_symbols() -> list[str]:
    """GPT-2/CLIP byte-to-unicode table: the 256 symbols byte-level BPE works with."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += range(ord("®"), ord("ÿ") + 1)
    symbols, extra = [], 0
    for byte in range(256):
        if byte in keep:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def write_tokenizer_files(folder: Path) -> int:
    """A CLIP tokenizer's vocab.json and merges.txt with single-byte tokens and a few merges;
    returns the vocabulary size."""
    symbols = _byte_symbols()
    vocab_list = symbols + [s + "</w>" for s in symbols]
    merges = ["t h", "th e</w>", "a n", "o n", "e r"]
    vocab_list += [a + b for a, b in (m.split(" ") for m in merges)]
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(vocab_list))}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
    return len(vocab)


def build_tiny_pipeline(scratch: Path, *, width: int = 32):  # noqa: ANN201 - a diffusers pipeline
    """A StableDiffusionPipeline with every part tiny and random (seeded: always the same)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    vocab_size = write_tokenizer_files(scratch / "tok")
    tokenizer = CLIPTokenizer.from_pretrained(scratch / "tok", model_max_length=77)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=width,
            intermediate_size=2 * width,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=vocab_size - 2,
            eos_token_id=vocab_size - 1,
            pad_token_id=vocab_size - 1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(width, 2 * width),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=width,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
    )
    # SD-Turbo's scheduler: Euler with trailing timesteps (its few steps end at the last one).
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_tiny_pipeline(folder: Path, variant: str | None = None, *, width: int = 32) -> Path:
    """Saves the tiny pipeline into `folder` with the hub's layout (no tokenizer.json: SD-Turbo's
    tokenizer folder has only vocab.json, merges.txt and their configs). With variant "fp16"
    the weights are half precision in *.fp16.safetensors files, as SD-Turbo's catalog entry."""
    import torch

    with tempfile.TemporaryDirectory() as scratch:
        pipe = build_tiny_pipeline(Path(scratch), width=width)
        if variant == "fp16":
            pipe.to(torch.float16)
        pipe.save_pretrained(folder, variant=variant)
    # transformers 5 saves a tokenizer.json instead of the files the hub's SD repos hold.
    (folder / "tokenizer" / "tokenizer.json").unlink(missing_ok=True)
    write_tokenizer_files(folder / "tokenizer")
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>"}
    special |= {"pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    (folder / "tokenizer" / "special_tokens_map.json").write_text(json.dumps(special), "utf-8")
    return folder


def hub_files(entry: ModelEntry, folder: Path) -> dict[str, bytes]:
    """The files of `folder` under the hub paths `entry` lists: what a hub stand-in serves for
    it. Fails if the folder lacks a file the catalog entry names."""
    return {f.hub_path: (folder / f.name).read_bytes() for f in entry.files}


def save_tiny_decoder(folder: Path) -> Path:
    """A tiny random AutoencoderTiny (the TAESD class), saved like madebyollin/taesd."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(1)
    AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
        latent_channels=4,
    ).save_pretrained(folder)
    return folder


def entry_for(folder: Path, name: str, engine: str = "diffusers", hub_repo: str = "") -> ModelEntry:
    """A catalog entry listing every file under `folder` with its size and sha256; with
    `hub_repo` the hashes are left empty (pinned on first download) and each file has a hub
    path, as the real image models' entries."""
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(folder).as_posix()
        sha = "" if hub_repo else hashlib.sha256(path.read_bytes()).hexdigest()
        files.append(ModelFile(rel, path.stat().st_size, sha, hub_path=rel if hub_repo else ""))
    return ModelEntry(
        name, "image", engine, "MIT", "tiny random test model", tuple(files), hub_repo
    )


def tiny_store(root: Path, *, decoder: bool = False, entries: tuple[ModelEntry, ...] = ()):  # noqa: ANN201
    """A ModelStore at `root` holding the tiny pipeline as TINY_MODEL (installed and verified),
    and the tiny decoder as TINY_DECODER when `decoder`; `entries` adds catalog entries."""
    import torch

    from models.store import ModelStore

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: a second thread only spins on a busy machine
    try:
        model_dir = save_tiny_pipeline(root / "models" / TINY_MODEL)
        found = [entry_for(model_dir, TINY_MODEL), *entries]
        if decoder:
            decoder_dir = save_tiny_decoder(root / "models" / TINY_DECODER)
            found.append(entry_for(decoder_dir, TINY_DECODER, engine="taesd"))
    finally:
        torch.set_num_threads(threads)
    return ModelStore(root, entries=found)
