"""CTranslate2 Whisper -> openai-whisper checkpoint: a random round trip and the real tiny.en."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant_app.core.errors import ModelUnavailable
from models.whisper_convert import convert_ct2_to_openai

whisper = pytest.importorskip("whisper")
specs = pytest.importorskip("ctranslate2.specs")

DIMS = dict(
    n_mels=80,
    n_audio_ctx=6,
    n_audio_state=16,
    n_audio_head=2,
    n_audio_layer=2,
    n_vocab=40,
    n_text_ctx=5,
    n_text_state=16,
    n_text_head=4,
    n_text_layer=2,
)
ALIGNMENT_HEADS = [[1, 0], [1, 3]]
QKV = ("query", "key", "value")


def _fuse(s: dict[str, torch.Tensor], prefixes: list[str]) -> dict[str, torch.Tensor]:
    """CT2's one linear for these openai linears, stacked, with a zero bias for the key."""
    weights = [s[f"{p}.weight"] for p in prefixes]
    biases = [s.get(f"{p}.bias", torch.zeros(len(s[f"{p}.weight"]))) for p in prefixes]
    return {"weight": torch.cat(weights), "bias": torch.cat(biases)}


def _ct2_variables(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The variables the CT2 Whisper converter would produce from an openai `model`."""
    s = model.state_dict()
    v = {
        "encoder/position_encodings/encodings": s["encoder.positional_embedding"],
        "decoder/position_encodings/encodings": s["decoder.positional_embedding"],
        "decoder/embeddings/weight": s["decoder.token_embedding.weight"],
        # tied: optimize() makes this copy an alias, as in real converted models
        "decoder/projection/weight": s["decoder.token_embedding.weight"],
    }
    for ct2, oa in [
        ("encoder/layer_norm", "encoder.ln_post"),
        ("decoder/layer_norm", "decoder.ln"),
    ]:
        v |= {f"{ct2}/gamma": s[f"{oa}.weight"], f"{ct2}/beta": s[f"{oa}.bias"]}
    for conv in ("conv1", "conv2"):
        v |= {f"encoder/{conv}/{k}": s[f"encoder.{conv}.{k}"] for k in ("weight", "bias")}
    for side in ("encoder", "decoder"):
        for i in range(DIMS[f"n_{'audio' if side == 'encoder' else 'text'}_layer"]):
            ct2, oa = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            attn, cross = f"{oa}.attn", f"{oa}.cross_attn"
            layers = {
                "self_attention/linear_0": _fuse(s, [f"{attn}.{p}" for p in QKV]),
                "self_attention/linear_1": _fuse(s, [f"{attn}.out"]),
                "ffn/linear_0": _fuse(s, [f"{oa}.mlp.0"]),
                "ffn/linear_1": _fuse(s, [f"{oa}.mlp.2"]),
            }
            norms = {"self_attention": "attn_ln", "ffn": "mlp_ln"}
            if side == "decoder":
                layers |= {
                    "attention/linear_0": _fuse(s, [f"{cross}.query"]),
                    "attention/linear_1": _fuse(s, [f"{cross}.key", f"{cross}.value"]),
                    "attention/linear_2": _fuse(s, [f"{cross}.out"]),
                }
                norms["attention"] = "cross_attn_ln"
            for name, wb in layers.items():
                v |= {f"{ct2}/{name}/{k}": t for k, t in wb.items()}
            for name, ln in norms.items():
                v |= {
                    f"{ct2}/{name}/layer_norm/gamma": s[f"{oa}.{ln}.weight"],
                    f"{ct2}/{name}/layer_norm/beta": s[f"{oa}.{ln}.bias"],
                }
    return v


def _save_ct2(model: torch.nn.Module, where: Path, quantization: str = "float16") -> None:
    """Writes `model` as a CT2 folder with ctranslate2's own spec and serializer."""
    spec = specs.WhisperSpec(
        DIMS["n_audio_layer"], DIMS["n_audio_head"], DIMS["n_text_layer"], DIMS["n_text_head"]
    )
    for name, tensor in _ct2_variables(model).items():
        scope, attr = name.rsplit("/", 1)
        setattr(specs.model_spec.index_spec(spec, scope), attr, tensor.detach().numpy())
    spec.register_vocabulary([f"t{i}" for i in range(DIMS["n_vocab"])])
    spec.config.alignment_heads = ALIGNMENT_HEADS
    spec.validate()
    spec.optimize(quantization=quantization)
    where.mkdir()
    spec.save(str(where))


@pytest.fixture(scope="module")
def random_whisper() -> torch.nn.Module:
    """A tiny openai Whisper with every parameter random, so no mix-up can pass unnoticed."""
    torch.manual_seed(0)
    model = whisper.Whisper(whisper.ModelDimensions(**DIMS))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return model


def test_random_model_round_trips_exactly(random_whisper: torch.nn.Module, tmp_path: Path) -> None:
    _save_ct2(random_whisper, tmp_path / "ct2")
    out = tmp_path / "out" / "model.pt"

    convert_ct2_to_openai(tmp_path / "ct2", out)

    assert [p.name for p in out.parent.iterdir()] == ["model.pt"]  # no temp file left behind
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["dims"] == DIMS
    expected = random_whisper.state_dict()
    assert checkpoint["model_state_dict"].keys() == expected.keys()
    for key, tensor in checkpoint["model_state_dict"].items():
        assert torch.equal(tensor, expected[key].half()), key
    loaded = whisper.load_model(str(out), device="cpu")  # strict: raises on any key mismatch
    loaded.set_alignment_heads(checkpoint["alignment_heads"])
    assert loaded.alignment_heads.to_dense().nonzero().tolist() == ALIGNMENT_HEADS


def test_truncated_file_is_unavailable_and_writes_nothing(
    random_whisper: torch.nn.Module, tmp_path: Path
) -> None:
    _save_ct2(random_whisper, tmp_path / "ct2")
    model_bin = tmp_path / "ct2" / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[:5000])
    out = tmp_path / "out" / "model.pt"

    with pytest.raises(ModelUnavailable, match="truncated"):
        convert_ct2_to_openai(tmp_path / "ct2", out)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_int8_model_is_unavailable(random_whisper: torch.nn.Module, tmp_path: Path) -> None:
    _save_ct2(random_whisper, tmp_path / "ct2", quantization="int8")

    with pytest.raises(ModelUnavailable, match="quantized"):
        convert_ct2_to_openai(tmp_path / "ct2", tmp_path / "model.pt")
    assert not (tmp_path / "model.pt").exists()


def test_missing_folder_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="cannot read"):
        convert_ct2_to_openai(tmp_path / "nowhere", tmp_path / "model.pt")


@pytest.mark.models
def test_tiny_en_converts_and_transcribes(tmp_path: Path, real_store, fixtures: Path) -> None:
    from audio.wav import read_audio

    out = tmp_path / "tiny.en.pt"
    convert_ct2_to_openai(real_store.path("whisper-tiny.en"), out)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = whisper.load_model(str(out), device="cpu")
        audio = read_audio(fixtures / "remind_me.wav")
        text = model.transcribe(audio, fp16=False, language="en", temperature=0.0)["text"]
    finally:
        torch.set_num_threads(threads)
    assert {"remind", "tomorrow", "morning"} <= set(text.lower().replace(".", " ").split()), text
