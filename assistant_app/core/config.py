"""The one TOML configuration file, parsed into frozen dataclasses with a comment on every field."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

import platformdirs

from assistant_app.core.errors import ConfigError

APP_NAME = "assistant"

# Engine names each role accepts; the factories in audio/ and models/ implement exactly these.
ENGINES: dict[str, tuple[str, ...]] = {
    "stt": ("faster-whisper", "openai-whisper"),
    "llm": ("llama-cpp", "openai"),
    "tts": ("hibari", "piper", "espeak-ng"),
    "vad": ("silero",),
    "embed": ("sentence-transformers",),
}
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("voice", "mode"): ("hands-free", "push-to-talk"),
    ("vad", "end_of_turn"): ("meaning", "silence"),
    ("voice", "echo_cancellation"): ("webrtc", "speex", "none", "off"),
    ("image", "dtype"): ("float32", "bfloat16"),
    ("sketch", "writer"): ("layout", "model"),
}


def _doc(text: str, **kwargs: Any) -> Any:
    """A dataclass field whose comment is shown by `assistant config show`."""
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class ModelsConfig:
    dir: str = _doc(
        "Where models live: the folder `assistant models list` prints (ending in /models), or "
        "the folder that holds it; empty means the user data dir.",
        default="",
    )
    hub_endpoint: str = _doc(
        "Hugging Face endpoint for `assistant models pull` when online; empty means the default.",
        default="",
    )


@dataclass(frozen=True)
class SttConfig:
    engine: str = _doc(
        "What runs a Whisper model: faster-whisper (fast, default) or openai-whisper "
        "(a Moonshine model always runs on its own engine).",
        default="faster-whisper",
    )
    model: str = _doc(
        "Catalog name of the speech model (see `assistant models list`).", default="whisper-base"
    )
    language: str = _doc(
        "What you speak: a code such as 'en' or 'de'; empty means the system's language "
        "(English when the locale names none); 'auto' detects it on every clip.",
        default="",
    )
    beam_size: int = _doc(
        "Beam width; 1 is greedy decoding (faster, slightly less accurate).", default=5
    )
    threads: int = _doc("CPU threads for speech recognition.", default=2)


@dataclass(frozen=True)
class LlmConfig:
    engine: str = _doc(
        "llama-cpp: a GGUF model in this process; openai: any OpenAI-compatible server "
        "(llama.cpp server, vLLM, Ollama) at server_url.",
        default="llama-cpp",
    )
    server_url: str = _doc(
        "With engine = openai: the server's API base, e.g. http://gpu-box:8000/v1.", default=""
    )
    api_key: str = _doc("With engine = openai: a key if the server wants one.", default="")
    model: str = _doc("Catalog name of the chat model.", default="qwen2.5-coder-1.5b-instruct")
    threads: int = _doc(
        "CPU threads for the chat model; 1 can beat 2 on a busy machine.", default=2
    )
    context_tokens: int = _doc("Context window in tokens.", default=4096)
    max_reply_tokens: int = _doc("Longest reply in tokens.", default=512)
    temperature: float = _doc("Sampling temperature; 0 is deterministic.", default=0.2)
    tool_calls: str = _doc(
        "How a llama-cpp model writes a tool call: free (as it likes, written again under a "
        "grammar from the tools' schemas only when it is not a valid call; faster) or grammar "
        "(always under the grammar). bench/answers.py compares them.",
        default="free",
    )
    think_samples: int = _doc(
        "'Think longer' (chat --think, or 'think carefully about ...'): independent attempts "
        "voted on.",
        default=5,
    )
    think_budget_s: float = _doc(
        "'Think longer' stops starting new attempts after this long.", default=120.0
    )
    system_prompt: str = _doc(
        "Instructions the model sees first.",
        default="You are a helpful, concise assistant running offline on the user's computer. "
        "Call a tool only when the request needs it (always for arithmetic); otherwise answer "
        "directly in plain text. Stories, poems and letters are welcome.",
    )


@dataclass(frozen=True)
class TtsConfig:
    engine: str = _doc(
        "hibari (natural, default), piper (a second voice, male) or espeak-ng (robotic fallback).",
        default="hibari",
    )
    voice: str = _doc(
        "hibari voice ('heart' ships offline) or espeak-ng voice ('en-us').", default="heart"
    )
    speaking_rate: float = _doc("1.0 is normal speed; 1.2 is 20% faster.", default=1.0)
    threads: int = _doc("CPU threads for speech synthesis.", default=1)


@dataclass(frozen=True)
class VadConfig:
    engine: str = _doc("silero: neural voice activity detection.", default="silero")
    threshold: float = _doc("Speech probability above which a frame counts as speech.", default=0.5)
    end_of_turn: str = _doc(
        "How the end of the user's turn is found. meaning: at a short pause a small model "
        "judges from the words so far whether the thought is finished (answered at once) or "
        "not (it keeps listening, up to end_of_turn_cap_ms of silence); silence: after "
        "end_of_turn_silence_ms of silence.",
        default="meaning",
    )
    end_of_turn_silence_ms: int = _doc(
        "With end_of_turn = silence: the silence that ends the user's turn.", default=400
    )
    end_of_turn_cap_ms: int = _doc(
        "With end_of_turn = meaning: the longest silence waited for an unfinished thought "
        "(one that may be finished waits 1 s).",
        default=2500,
    )
    end_of_turn_model: str = _doc(
        "With end_of_turn = meaning: the chat model that judges (small and fast).",
        default="smollm2-135m-instruct",
    )


@dataclass(frozen=True)
class VoiceConfig:
    mode: str = _doc(
        "hands-free (voice activity starts a turn) or push-to-talk.", default="hands-free"
    )
    echo_cancellation: str = _doc(
        "How the assistant avoids hearing itself: webrtc (loudspeakers, default), speex "
        "(loudspeakers, fallback), none (headset: nothing to cancel), or off (half-duplex: the "
        "microphone is ignored while it speaks; interrupt with push-to-talk).",
        default="webrtc",
    )
    llm_model: str = _doc(
        "A chat model of its own for spoken turns; empty uses [llm] model, the same brain as "
        "typing (bench/voice_tasks.py: the 1.5B answers spoken questions far better than the "
        "0.5B, at a similar first-audio time once the prompt is cached).",
        default="",
    )
    stt_model: str = _doc(
        "Speech model for voice turns; empty uses [stt] model. moonshine-base-en (English "
        "only; another language falls back to whisper-base) hears a short turn in ~0.13 s with "
        "fewer words wrong than whisper-base's ~0.6 s (bench/ears.py: WER 0.235 vs 0.298).",
        default="moonshine-base-en",
    )
    stt_beam_size: int = _doc(
        "Beam width for voice turns (1: greedy, the fastest). Moonshine with 4 gets a fifth "
        "fewer words wrong on bench/ears.py, but answered no more spoken questions right in "
        "bench/voice_tasks.py and spoke 0.1-0.2 s later.",
        default=1,
    )
    max_reply_tokens: int = _doc(
        "Longest reply in tokens, with llm_model set (else [llm] max_reply_tokens).", default=200
    )
    system_prompt: str = _doc(
        "Opens each spoken turn's own system message: how to answer for the ear (the "
        "assistant's own instructions, tools and notes are the same as when typing). Keep it "
        "short: a long style note made the 1.5B model answer sums in its head instead of "
        "calling a tool.",
        default="Spoken reply: short and plain, no Markdown, lists or code.",
    )


@dataclass(frozen=True)
class EmbedConfig:
    engine: str = _doc("sentence-transformers.", default="sentence-transformers")
    model: str = _doc("Catalog name of the embedding model.", default="all-minilm-l6-v2")
    relevance: float = _doc(
        "Passages from the knowledge folders join a message only when at least this similar "
        "to it (cosine, 0-1), or when they hold every word of it; below, the message stays "
        "free of outside text. bench/retrieval.py measures it.",
        default=0.4,
    )


@dataclass(frozen=True)
class AudioConfig:
    input_device: str = _doc("Microphone name or index; empty is the system default.", default="")
    output_device: str = _doc("Speaker name or index; empty is the system default.", default="")


@dataclass(frozen=True)
class SketchConfig:
    model: str = _doc(
        "Catalog name of the coder model that writes pages from sketches.",
        default="qwen2.5-coder-1.5b-instruct",
    )
    writer: str = _doc(
        "Who writes the page: 'layout' builds its markup and script from the sketch's rows, "
        "columns and button labels and the model writes only the texts the sketch implies "
        "(a punchline, a thank-you), about 3 s; 'model' has the model write the whole page and "
        "repair it (slower, freer, less reliable; a page whose script throws is replaced by "
        "the built one).",
        default="layout",
    )
    max_page_tokens: int = _doc("Longest page the model may write, in tokens.", default=1800)
    temperature: float = _doc(
        "Sampling temperature for writing pages (0: greedy, the most reliable).", default=0.0
    )
    repair_rounds: int = _doc(
        "Rewrites when the rendered page misses what the sketch shows (0 = none).", default=1
    )
    vision_model: str = _doc(
        "Catalog name of a vision model (role vlm, e.g. smolvlm-500m-instruct) that also reads "
        "the sketch for writer = 'model'; empty = OCR and layout only. Pull it once with "
        "`assistant models pull NAME` (needs the network).",
        default="",
    )


@dataclass(frozen=True)
class ImageConfig:
    model: str = _doc(
        "Catalog name of the image model (sd-turbo, sdxs-512-0.9, bk-sdm-tiny). None ships "
        "offline: pull it once with `assistant models pull sd-turbo` (needs the network).",
        default="sd-turbo",
    )
    steps: int = _doc(
        "Denoising steps; 0 = the model's own (1 for sd-turbo). Each step of a 512 px picture "
        "takes tens of seconds on a laptop CPU.",
        default=0,
    )
    size: str = _doc(
        "Picture size WIDTHxHEIGHT in pixels (multiples of 8); the models are trained at "
        "512x512; 256x256 is several times faster but much worse.",
        default="512x512",
    )
    guidance: float = _doc(
        "Guidance scale (how literally the prompt is followed); negative = the model's own "
        "(0 for the turbo models, which ignore it).",
        default=-1.0,
    )
    strength: float = _doc(
        "Picture from a picture: how much of the start image is changed, 0.1 (little) to 1.0 "
        "(everything).",
        default=0.5,
    )
    dtype: str = _doc(
        "float32, or bfloat16 (half the memory; faster only on CPUs with bfloat16 support).",
        default="float32",
    )
    threads: int = _doc(
        "CPU threads for image generation; 0 = torch's default (all cores).", default=0
    )
    attention_slicing: bool = _doc(
        "Compute attention in slices (the pre-torch-2 memory saver). Leave it off: torch's fused "
        "attention is faster and smaller here (bench/image.py: slicing 3.4x slower at 512 px).",
        default=False,
    )
    tiny_decoder: bool = _doc(
        "Decode with the tiny autoencoder (catalog model taesd) when it is installed: under a "
        "second instead of most of a minute, slightly softer detail.",
        default=True,
    )


@dataclass(frozen=True)
class Config:
    models: ModelsConfig = field(default_factory=ModelsConfig)
    stt: SttConfig = field(default_factory=SttConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    sketch: SketchConfig = field(default_factory=SketchConfig)
    image: ImageConfig = field(default_factory=ImageConfig)

    def replace(self, section: str, **changes: Any) -> Config:
        """A copy with some fields of one section changed (used by CLI flags)."""
        return dataclasses.replace(
            self, **{section: dataclasses.replace(getattr(self, section), **changes)}
        )


def config_path() -> Path:
    """The config file: $ASSISTANT_CONFIG, else config.toml in the user config dir."""
    env = os.environ.get("ASSISTANT_CONFIG")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir(config: Config) -> Path:
    """Where the app keeps its data (memory, conversations): $ASSISTANT_DATA_DIR or the user
    data dir. `config` is accepted so callers need not care which settings matter."""
    env = os.environ.get("ASSISTANT_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME))


def models_dir(config: Config) -> Path:
    """Where the model store lives (it keeps models in its `models/` folder): [models] dir,
    else the data dir. A dir that is itself that `models/` folder (the one `assistant models
    list` prints) means its parent, so models are not assembled again one level deeper."""
    if not config.models.dir:
        return data_dir(config)
    path = Path(config.models.dir).expanduser()
    if path.name == "models" and not (path / "models").is_dir():
        return path.parent
    return path


def load_config(path: Path | None = None) -> Config:
    """Reads the config file; a missing file means all defaults."""
    path = path or config_path()
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The config file {path} is not valid TOML ({exc}). Fix the line it names, or move "
            f"the file away to start from the defaults (`assistant config show` prints them)."
        ) from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Builds a Config from parsed TOML, failing on unknown keys, wrong types or engine names."""
    sections = {f.name: f for f in fields(Config)}
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}]. Valid sections: "
            f"{', '.join(sorted(sections))}. Rename or remove it."
        )
    built: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: '{name}' must be a [{name}] section, not a value.")
        built[name] = _parse_section(sections[name].default_factory, name, value, source)  # type: ignore[misc]
    return Config(**built)


def _parse_section(cls: type, name: str, raw: dict[str, Any], source: str) -> Any:
    hints = get_type_hints(cls)
    valid = [f.name for f in fields(cls)]
    for key, value in raw.items():
        if key not in hints:
            raise ConfigError(
                f"{source}: unknown key '{key}' in [{name}]. Valid keys in [{name}]: "
                f"{', '.join(valid)}. Fix the spelling or remove the line."
            )
        want = hints[key]
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ConfigError(f"{source}: [{name}] {key} must be a {want.__name__}, got {value!r}.")
    section = cls(**{k: (float(v) if hints[k] is float else v) for k, v in raw.items()})
    for (sec, key), valid_values in CHOICES.items():
        if sec == name and getattr(section, key) not in valid_values:
            raise ConfigError(
                f"{source}: [{name}] {key} '{getattr(section, key)}' is not valid. Valid values: "
                f"{', '.join(valid_values)}."
            )
    engine = getattr(section, "engine", None)
    if engine is not None and engine not in ENGINES.get(name, (engine,)):
        raise ConfigError(
            f"{source}: [{name}] engine '{engine}' is not known. Valid engines: "
            f"{', '.join(ENGINES[name])}."
        )
    return section


def render_config(config: Config) -> str:
    """The config as commented TOML, suitable for pasting into the config file."""
    lines: list[str] = []
    for section in fields(config):
        value = getattr(config, section.name)
        lines.append(f"[{section.name}]")
        for f in fields(value):
            lines.append(f"# {f.metadata.get('doc', '')}")
            lines.append(f"{f.name} = {_toml_value(getattr(value, f.name))}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
