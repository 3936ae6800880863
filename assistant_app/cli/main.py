"""The `assistant` command: argument parsing, logging set-up and the user-facing error policy."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

# Nothing at run time may reach a model hub; `models pull --source hub` lifts this for itself.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from assistant_app.cli import assistants as cli_assistants  # noqa: E402
from assistant_app.cli import audit as cli_audit  # noqa: E402
from assistant_app.cli import conversations as cli_conversations  # noqa: E402
from assistant_app.cli import imagine as cli_imagine  # noqa: E402
from assistant_app.cli import models as cli_models  # noqa: E402
from assistant_app.cli import sketch as cli_sketch  # noqa: E402
from assistant_app.core.config import Config, config_path, load_config, render_config  # noqa: E402
from assistant_app.core.errors import AssistantError, UserVisibleError  # noqa: E402

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="An offline, speech-to-speech desktop assistant."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("app", help="open the desktop window (the default)")
    chat = sub.add_parser("chat", help="type to the assistant; reads stdin when piped")
    chat.add_argument("--model", help="chat model from the catalog (default: [llm] model)")
    chat.add_argument("--assistant", help="a custom assistant (default: the current one)")
    chat.add_argument(
        "--resume",
        nargs="?",
        type=int,
        const=0,
        metavar="ID",
        help="continue a saved conversation (default: the latest)",
    )
    chat.add_argument(
        "--think",
        action="store_true",
        help="think longer on every message: several attempts, majority answer",
    )
    chat.add_argument(
        "--tools",
        action="store_true",
        help="(the default) let the model call tools, as in the window and by voice",
    )
    chat.add_argument(
        "--no-tools", action="store_true", help="answer from the model alone: no tool calls"
    )
    chat.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="TOOL",
        help="let this tool run without asking (repeatable)",
    )
    tr = sub.add_parser("transcribe", help="print the words spoken in an audio file")
    tr.add_argument("file", type=Path)
    tr.add_argument("--engine", choices=("faster-whisper", "openai-whisper"))
    tr.add_argument("--model", help="Whisper model from the catalog (default: [stt] model)")
    tr.add_argument(
        "--language",
        help="spoken language code, e.g. en, or auto to detect it (default: [stt] language, "
        "else the system's language)",
    )
    say = sub.add_parser("say", help="speak text into a WAV file")
    say.add_argument("text", help="the text; - reads it from stdin")
    say.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
    say.add_argument("--engine", choices=("hibari", "piper", "espeak-ng"))
    talk = sub.add_parser("talk", help="talk by voice (microphone), or headless over WAV files")
    talk.add_argument(
        "--input",
        type=Path,
        action="append",
        default=[],
        help="a spoken question WAV; repeat for several turns (headless mode)",
    )
    talk.add_argument("--output-dir", type=Path, help="where replies go (with --input)")
    talk.add_argument(
        "--turns",
        type=int,
        default=0,
        help="live mode: stop after this many answered turns (default: Ctrl+C)",
    )
    cli_models.add_parser(sub)
    cli_assistants.add_parser(sub)
    cli_conversations.add_parser(sub)
    cli_sketch.add_parser(sub)
    cli_audit.add_parser(sub)
    cli_imagine.add_parser(sub)
    cfg = sub.add_parser("config", help="show the configuration or where it lives")
    cfg.add_argument("config_command", choices=("show", "path"))
    sub.add_parser("doctor", help="check audio, microphone, models and disk; print fixes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        config = load_config()
        return _dispatch(args, config)
    except AssistantError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `assistant config show | head`: the reader left. Nothing more can be written, and
        # Python's own flush at exit must not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        log.exception("unexpected error")
        print(
            f"assistant: something went wrong that we did not expect. Details are in "
            f"{_log_file()}; please report them.",
            file=sys.stderr,
        )
        return 2


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    command = args.command or "app"
    if command == "models":
        return cli_models.run(args, config)
    if command == "assistants":
        return cli_assistants.run(args, config)
    if command == "conversations":
        return cli_conversations.run(args, config)
    if command == "sketch":
        return cli_sketch.run(args, config)
    if command == "audit":
        return cli_audit.run(args, config)
    if command == "imagine":
        return cli_imagine.run(args, config)
    if command == "config":
        print(render_config(config) if args.config_command == "show" else config_path())
        return 0
    if command == "doctor":
        from assistant_app.cli.doctor import run_doctor

        return 1 if run_doctor(config) else 0
    if command == "chat":
        return _chat(args, config)
    if command == "transcribe":
        return _transcribe(args, config)
    if command == "say":
        return _say(args, config)
    if command == "talk":
        return _talk(args, config)
    return _app(config)


def _chat(args: argparse.Namespace, config: Config) -> int:
    from assistant_app.cli.progress import ProgressBar
    from assistant_app.cli.repl import ask_on_terminal, run_repl, show_thinking, show_tool_use
    from assistant_app.kernel.chat import ThinkSettings, refuse
    from assistant_app.kernel.session import build_session, knowledge_index
    from assistant_app.storage.profiles import profiles_for
    from models.llm import create_chat_model
    from models.store import open_store

    profiles = profiles_for(config)
    profile = profiles.load(args.assistant or profiles.current())
    if args.model:
        config = config.replace("llm", model=args.model)
    store = open_store(config)
    if config.llm.engine == "llama-cpp":  # a server's model is the server's business
        store.path(config.llm.model, ProgressBar())
    if sys.stdin.isatty():
        print(f"Loading {config.llm.model}...", file=sys.stderr)
    model = create_chat_model(config.llm, store)
    knowledge = knowledge_index(config, profile, _indexing_progress)
    think = ThinkSettings(
        args.think, config.llm.think_samples, config.llm.think_budget_s, show_thinking
    )
    resume = args.resume
    if resume == 0:  # --resume alone: the latest conversation
        from assistant_app.kernel.session import conversations

        resume = conversations(config).latest()
    session = build_session(
        config,
        model,
        profile,
        tools=not args.no_tools,
        allow=tuple(args.allow),
        ask=ask_on_terminal if sys.stdin.isatty() else refuse,
        on_tool=show_tool_use,
        think=think,
        resume=resume,
        knowledge=knowledge,
    )
    run_repl(session)
    return 0


def _indexing_progress(done: int, total: int, path: str) -> None:
    if sys.stderr.isatty():
        print(f"\rindexing knowledge folders: {done} of {total} files", end="", file=sys.stderr)
        if done == total:
            print(file=sys.stderr)


def _transcribe(args: argparse.Namespace, config: Config) -> int:
    from audio.hearing import heard_words
    from audio.stt import create_speech_to_text
    from audio.vad import create_voice_activity_detector
    from audio.wav import read_audio
    from models.store import open_store

    changes = {k: v for k in ("engine", "model", "language") if (v := getattr(args, k))}
    config = config.replace("stt", **changes)
    audio = read_audio(args.file)
    store = open_store(config)
    vad = create_voice_activity_detector(config.vad, store)
    if vad.speech_ratio(audio, config.vad.threshold) < 0.02:
        raise UserVisibleError(f"No speech found in {args.file}: it is silent or only noise.")
    transcript = create_speech_to_text(config.stt, store).transcribe(audio)
    text = heard_words(transcript.segments, len(audio) / 16000)
    if not text:
        raise UserVisibleError(f"No words recognised in {args.file}.")
    print(text)
    return 0


def _say(args: argparse.Namespace, config: Config) -> int:
    import numpy as np

    from assistant_app.core.cancel import CancelToken
    from audio.tts import create_text_to_speech
    from audio.wav import write_wav
    from models.store import open_store

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UserVisibleError("Nothing to say: the text is empty.")
    if args.engine:
        config = config.replace("tts", engine=args.engine)
    tts = create_text_to_speech(config.tts, open_store(config))
    chunks = list(tts.synthesize(text, CancelToken.never()))
    if not chunks:
        raise UserVisibleError("The text has nothing speakable in it.")
    write_wav(args.output, np.concatenate(chunks), tts.sample_rate_hz)
    print(args.output)
    return 0


def _talk(args: argparse.Namespace, config: Config) -> int:
    from assistant_app.voice import talk

    if args.input:
        if args.output_dir is None:
            raise UserVisibleError("With --input, also give --output-dir DIR for the replies.")
        return talk.run_files(config, args.input, args.output_dir)
    return talk.run_live(config, args.turns)


def _app(config: Config) -> int:
    from assistant_app.cli.doctor import has_display

    if not has_display():
        print(
            "assistant: there is no display here, so the desktop window cannot open.\n"
            "Talk to it by voice with `assistant talk`, type with `assistant chat` (or pipe "
            "text into it), transcribe audio with `assistant transcribe FILE`, and speak with "
            "`assistant say TEXT -o out.wav`. `assistant --help` lists everything.",
            file=sys.stderr,
        )
        return 1
    try:
        from ui.app import run_app
    except ImportError as exc:
        raise AssistantError(f"The desktop app needs PySide6 ({exc}). Run scripts/setup.") from None
    return run_app(config)


def _log_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("assistant")) / "assistant.log"


def _configure_logging(verbose: bool) -> None:
    """Logging is set up here only: terse on stderr, full tracebacks in the log file."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    try:
        path = _log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    for noisy in ("urllib3", "filelock", "numba", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
