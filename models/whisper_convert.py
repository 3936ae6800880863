"""Turns a CTranslate2 Whisper model folder back into an openai-whisper `.pt` checkpoint."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import re
import struct
import uuid
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from assistant_app.core.errors import ModelUnavailable

log = logging.getLogger(__name__)

# ctranslate2/specs/model_spec.py `ModelSpec._serialize` writes version 6; 5 differs only in how
# the runtime rounds when quantizing, not in the layout.
BINARY_VERSIONS = (5, 6)
# Type ids are the positions in model_spec `_dtype_to_type_id`; bfloat16 is read as int16 and
# reinterpreted because numpy has no bfloat16.
_DTYPES: dict[int, tuple[np.dtype, torch.dtype | None]] = {
    0: (np.dtype("<f4"), None),
    1: (np.dtype("i1"), None),
    2: (np.dtype("<i2"), None),
    3: (np.dtype("<i4"), None),
    4: (np.dtype("<f2"), None),
    5: (np.dtype("<i2"), torch.bfloat16),
}
_FLOAT_IDS = (0, 4, 5)
_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/")


class _Unsupported(Exception):
    """The file is readable but holds something this converter cannot map."""


def convert_ct2_to_openai(ct2_dir: Path, out_path: Path) -> None:
    """Writes `out_path` so that `whisper.load_model(str(out_path))` loads it strictly.

    The checkpoint holds `dims`, `model_state_dict` (weights in the CT2 file's float type) and, when
    the CT2 config names them, `alignment_heads` in the base85 form that
    `Whisper.set_alignment_heads` takes (load_model only applies them to official models).
    The file appears atomically: it is written next to `out_path` and renamed at the end.
    Raises ModelUnavailable when the CT2 files are missing, truncated or of an unsupported kind.
    """
    ct2_dir, out_path = Path(ct2_dir), Path(out_path)
    try:
        variables = _read_model_bin(ct2_dir / "model.bin")
        dims, state = _to_openai(variables)
        heads = _alignment_heads(ct2_dir / "config.json", dims)
    except OSError as exc:
        raise _unavailable(ct2_dir, f"cannot read its files ({exc})") from exc
    except KeyError as exc:
        raise _unavailable(ct2_dir, f"model.bin lacks the Whisper variable {exc}") from exc
    except (_Unsupported, struct.error, ValueError) as exc:
        raise _unavailable(ct2_dir, f"it is not a supported Whisper model: {exc}") from exc
    checkpoint: dict[str, object] = {"dims": dims, "model_state_dict": state}
    if heads is not None:
        checkpoint["alignment_heads"] = heads
    _save_atomically(checkpoint, out_path)
    log.info("converted %s to %s (%d tensors)", ct2_dir, out_path, len(state))


def _unavailable(ct2_dir: Path, problem: str) -> ModelUnavailable:
    return ModelUnavailable(
        model=str(ct2_dir),
        problem=problem,
        looked_in=str(ct2_dir / "model.bin"),
        fix="delete the folder and download the model again, or re-export it with "
        "`ct2-transformers-converter --quantization float16` (int8 files cannot be converted).",
    )


def _read_string(f: BinaryIO) -> str:
    (length,) = struct.unpack("<H", _read_exact(f, 2))
    return _read_exact(f, length)[:-1].decode("utf-8")  # the length counts the trailing NUL


def _read_exact(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise _Unsupported("the file is truncated")
    return data


def _read_model_bin(path: Path) -> dict[str, torch.Tensor]:
    """Every variable of a CT2 model.bin by its spec name, with aliases resolved."""
    with path.open("rb") as f:
        (version,) = struct.unpack("<I", _read_exact(f, 4))
        if version not in BINARY_VERSIONS:
            raise _Unsupported(f"binary version {version}, expected one of {BINARY_VERSIONS}")
        spec = _read_string(f)
        (revision,) = struct.unpack("<I", _read_exact(f, 4))
        if spec != "WhisperSpec":
            raise _Unsupported(f"spec is {spec!r}, not 'WhisperSpec'")
        log.debug("reading %s: %s revision %d", path, spec, revision)
        (count,) = struct.unpack("<I", _read_exact(f, 4))
        variables: dict[str, torch.Tensor] = {}
        for _ in range(count):
            name = _read_string(f)
            (rank,) = struct.unpack("<B", _read_exact(f, 1))
            shape = struct.unpack(f"<{rank}I", _read_exact(f, 4 * rank))
            type_id, num_bytes = struct.unpack("<BI", _read_exact(f, 5))
            if type_id not in _DTYPES:
                raise _Unsupported(f"{name} has unknown type id {type_id}")
            if type_id not in _FLOAT_IDS and rank > 0:
                raise _Unsupported(f"{name} is quantized ({_DTYPES[type_id][0]})")
            np_dtype, view_as = _DTYPES[type_id]
            array = np.frombuffer(_read_exact(f, num_bytes), dtype=np_dtype).reshape(shape)
            tensor = torch.from_numpy(array.copy())
            variables[name] = tensor.view(view_as) if view_as is not None else tensor
        (aliases,) = struct.unpack("<I", _read_exact(f, 4))
        for _ in range(aliases):
            alias, target = _read_string(f), _read_string(f)
            variables[alias] = variables[target]
    return variables


def _layer_count(variables: dict[str, torch.Tensor], side: str) -> int:
    found = {int(m.group(2)) for m in map(_LAYER.match, variables) if m and m.group(1) == side}
    if found != set(range(len(found))) or not found:
        raise _Unsupported(f"{side} layers are missing or not numbered 0..n-1")
    return len(found)


def _to_openai(v: dict[str, torch.Tensor]) -> tuple[dict[str, int], dict[str, torch.Tensor]]:
    """The openai-whisper dims and state dict for CT2 variables `v`."""
    if any(name.endswith("weight_scale") for name in v):
        raise _Unsupported("its weights are int8-quantized")
    conv1, embeddings = v["encoder/conv1/weight"], v["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": _layer_count(v, "encoder"),
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": _layer_count(v, "decoder"),
    }
    projection = v.get("decoder/projection/weight", embeddings)
    if projection is not embeddings and not torch.equal(projection, embeddings):
        raise _Unsupported("the output projection is not tied to the token embedding")
    if "decoder/projection/bias" in v:
        raise _Unsupported("the output projection has a bias")
    state = {
        "encoder.conv1.weight": conv1,
        "encoder.conv1.bias": v["encoder/conv1/bias"],
        "encoder.conv2.weight": v["encoder/conv2/weight"],
        "encoder.conv2.bias": v["encoder/conv2/bias"],
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        "encoder.ln_post.weight": v["encoder/layer_norm/gamma"],
        "encoder.ln_post.bias": v["encoder/layer_norm/beta"],
        "decoder.token_embedding.weight": embeddings,
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        "decoder.ln.weight": v["decoder/layer_norm/gamma"],
        "decoder.ln.bias": v["decoder/layer_norm/beta"],
    }
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}/", f"encoder.blocks.{i}."
        _attention(state, v, src + "self_attention/", dst + "attn", cross=False)
        _mlp(state, v, src, dst)
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder/layer_{i}/", f"decoder.blocks.{i}."
        _attention(state, v, src + "self_attention/", dst + "attn", cross=False)
        _attention(state, v, src + "attention/", dst + "cross_attn", cross=True)
        _mlp(state, v, src, dst)
    return dims, state


def _attention(
    state: dict[str, torch.Tensor], v: dict[str, torch.Tensor], src: str, dst: str, cross: bool
) -> None:
    """Un-fuses CT2's q/k/v (self) or k/v (cross) projection into openai's four linears."""
    state[f"{dst}_ln.weight"] = v[src + "layer_norm/gamma"]
    state[f"{dst}_ln.bias"] = v[src + "layer_norm/beta"]
    if cross:
        parts = [("linear_0", ["query"]), ("linear_1", ["key", "value"]), ("linear_2", ["out"])]
    else:
        parts = [("linear_0", ["query", "key", "value"]), ("linear_1", ["out"])]
    for linear, names in parts:
        weight, bias = v[f"{src}{linear}/weight"], v[f"{src}{linear}/bias"]
        if weight.shape[0] % len(names) or bias.shape[0] != weight.shape[0]:
            raise _Unsupported(f"{src}{linear} has shape {tuple(weight.shape)}")
        chunks = zip(names, weight.chunk(len(names)), bias.chunk(len(names)), strict=True)
        # clone() so each tensor owns its storage and torch.save does not drag the fused one along
        for proj, w, b in chunks:
            state[f"{dst}.{proj}.weight"] = w.clone()
            # openai's key has no bias; CT2's zero one only shifts every logit of a query equally,
            # which softmax cancels, so dropping it is exact even if it were not zero
            if proj != "key":
                state[f"{dst}.{proj}.bias"] = b.clone()


def _mlp(state: dict[str, torch.Tensor], v: dict[str, torch.Tensor], src: str, dst: str) -> None:
    state[dst + "mlp_ln.weight"] = v[src + "ffn/layer_norm/gamma"]
    state[dst + "mlp_ln.bias"] = v[src + "ffn/layer_norm/beta"]
    for ct2, openai in (("linear_0", "mlp.0"), ("linear_1", "mlp.2")):
        state[f"{dst}{openai}.weight"] = v[f"{src}ffn/{ct2}/weight"]
        state[f"{dst}{openai}.bias"] = v[f"{src}ffn/{ct2}/bias"]


def _alignment_heads(config_path: Path, dims: dict[str, int]) -> bytes | None:
    """The config's (layer, head) pairs, encoded as `whisper._ALIGNMENT_HEADS` entries are."""
    if not config_path.is_file():
        return None
    try:
        pairs = json.loads(config_path.read_text(encoding="utf-8")).get("alignment_heads")
        if not pairs:
            return None
        mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
        for layer, head in pairs:
            mask[layer, head] = True
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise _Unsupported(f"config.json has no valid alignment_heads ({exc})") from exc
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def _save_atomically(checkpoint: dict[str, object], out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # os.open with 0o666 (not mkstemp's 0o600) so the result gets the usual umask permissions
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
