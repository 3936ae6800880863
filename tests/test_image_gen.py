"""Image generation on a tiny random diffusers pipeline: steps, cancel, seeds, PNG text, history,
image-to-image, the honest no-model answers, the tool in a chat, and `assistant imagine`."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant_app.cli.imagine import generate_stoppably
from assistant_app.core.cancel import CancelToken, TurnCounter
from assistant_app.core.config import Config, parse_config
from assistant_app.core.errors import ConfigError, ModelUnavailable, UserVisibleError
from assistant_app.core.messages import ReplyDelta, ToolCall
from assistant_app.kernel.chat import RESULT_NOTE, ChatSession
from assistant_app.storage.image_history import VARIATION_STRENGTH, ImageHistory
from assistant_app.storage.profiles import Profile
from assistant_app.tools.builtin import ImageToolEvents, image_events, image_tool
from assistant_app.tools.toolbox import ToolBox
from models import catalog
from models.diffusion import DiffusersImageGenerator, create_image_generator
from models.image_meta import (
    ImageGenerator,
    ImageRequest,
    ImageResult,
    fit_size,
    read_png_metadata,
    request_from_png,
)
from models.store import ModelStore
from tests.hub_standin import HubStandin
from tests.test_tools import ScriptedToolModel
from tests.tiny_diffusion import TINY_MODEL, hub_files, save_tiny_pipeline, tiny_store

ROOT = Path(__file__).resolve().parents[1]
# diffusers' Euler scheduler calls np.array(tensor, copy=False): harmless here, noisy in the log.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
SMALL = Config().replace(
    "image", model=TINY_MODEL, size="64x64", steps=3, tiny_decoder=False, threads=1
)  # one thread: two spin for ages on a busy 2-core machine with such tiny tensors


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    return tiny_store(tmp_path_factory.mktemp("store"), decoder=True)


@pytest.fixture(scope="module")
def generator(store: ModelStore) -> DiffusersImageGenerator:
    return create_image_generator(SMALL, store)


def pixels(result: ImageResult) -> np.ndarray:
    assert result.image is not None
    return np.asarray(result.image)


def make(generator: ImageGenerator, request: ImageRequest, events: list | None = None):  # noqa: ANN201
    recorded = events if events is not None else []
    return generator.generate(request, CancelToken.never(), lambda d, t: recorded.append((d, t)))


# -- the engine ---------------------------------------------------------------------------------
def test_each_denoising_step_is_reported(generator: DiffusersImageGenerator) -> None:
    events: list[tuple[int, int]] = []
    result = make(generator, ImageRequest("a lighthouse at dusk", seed=1), events)
    assert isinstance(generator, ImageGenerator)
    assert events == [(1, 3), (2, 3), (3, 3)]
    assert result.image is not None and result.image.size == (64, 64)
    assert (result.steps, result.steps_done, result.cancelled) == (3, 3, False)
    assert (result.seed, result.model, result.guidance) == (1, TINY_MODEL, 0.0)


def test_cancel_from_another_thread_stops_after_the_step_in_progress(
    generator: DiffusersImageGenerator,
) -> None:
    turns = TurnCounter()  # as the window's Stop: the session's turn moves on
    unet = generator._text2image.unet
    calls: list[int] = []

    def stop_during_second_step(module, args, kwargs) -> None:  # noqa: ANN001
        calls.append(1)
        if len(calls) == 2:
            stopper = threading.Thread(target=turns.advance)
            stopper.start()
            stopper.join()

    hook = unet.register_forward_pre_hook(stop_during_second_step, with_kwargs=True)
    events: list[tuple[int, int]] = []
    try:
        result = generator.generate(
            ImageRequest("a lighthouse", seed=1, steps=6),
            turns.token(),
            lambda d, t: events.append((d, t)),
        )
    finally:
        hook.remove()
    assert result.cancelled and result.image is None
    assert len(calls) == 2 and result.steps_done == 2  # the step in progress ends; no third
    assert events == [(1, 6), (2, 6)]


def test_a_token_cancelled_before_the_start_runs_no_step(
    generator: DiffusersImageGenerator,
) -> None:
    token = CancelToken.never()
    token.cancel()
    events: list = []
    result = generator.generate(ImageRequest("x", seed=1), token, lambda d, t: events.append(d))
    assert result.cancelled and result.steps_done == 0 and events == []


def test_the_same_seed_makes_the_same_picture(generator: DiffusersImageGenerator) -> None:
    first = make(generator, ImageRequest("a red apple", seed=42))
    again = make(generator, first.request())
    other = make(generator, ImageRequest("a red apple", seed=43))
    assert np.array_equal(pixels(first), pixels(again))
    assert not np.array_equal(pixels(first), pixels(other))
    fresh = make(generator, ImageRequest("a red apple"))
    assert 0 <= fresh.seed < 2**32  # a random seed is chosen and reported


def test_png_text_round_trip(generator: DiffusersImageGenerator, tmp_path: Path) -> None:
    result = make(
        generator, ImageRequest("ein Aquarell, café au lait ☕", seed=5, width=72, height=64)
    )
    path = result.save(tmp_path / "out.png")
    text = read_png_metadata(path)
    assert text["prompt"] == "ein Aquarell, café au lait ☕"
    assert (text["seed"], text["steps"], text["size"], text["model"]) == (
        "5",
        "3",
        "72x64",
        TINY_MODEL,
    )
    assert "Seed: 5" in text["parameters"]
    assert request_from_png(path) == result.request()
    assert np.array_equal(pixels(make(generator, request_from_png(path))), pixels(result))


def test_a_picture_from_a_transparent_sketch(
    generator: DiffusersImageGenerator, tmp_path: Path
) -> None:
    sketch = Image.new("RGBA", (48, 40), (0, 0, 0, 0))
    sketch.paste((20, 20, 20, 255), (10, 10, 38, 12))  # one dark stroke on a clear background
    sketch.save(tmp_path / "sketch.png")
    events: list[tuple[int, int]] = []
    request = ImageRequest(
        "a watercolour", seed=3, steps=4, init_image=tmp_path / "sketch.png", strength=0.5
    )
    result = make(generator, request, events)
    assert result.image is not None and result.image.size == (64, 64)  # the smallest size
    assert fit_size((4000, 3000), (512, 512)) == (512, 384)  # a photo keeps its shape
    assert fit_size((48, 40), (512, 512)) == (512, 424)  # multiples of 8
    assert events == [(1, 2), (2, 2)]  # image-to-image runs steps * strength of them
    assert (result.strength, result.steps_done) == (0.5, 2)
    assert read_png_metadata(result.save(tmp_path / "out.png"))["strength"] == "0.5"
    light_request = replace(request, steps=1, strength=0.3)
    light = make(generator, light_request)
    assert light.steps == 4 and light.steps_done == 1  # never zero steps
    with pytest.raises(UserVisibleError, match="strength"):
        make(generator, ImageRequest("x", init_image=tmp_path / "sketch.png", strength=1.5))
    with pytest.raises(UserVisibleError, match="Cannot read the start image"):
        make(generator, ImageRequest("x", init_image=tmp_path / "missing.png"))


def test_the_tiny_decoder_replaces_the_full_one_when_installed(store: ModelStore) -> None:
    tiny = create_image_generator(SMALL.replace("image", tiny_decoder=True), store)
    result = make(tiny, ImageRequest("a boat", seed=2))
    assert type(tiny._text2image.vae).__name__ == "AutoencoderTiny"
    assert result.image is not None and result.extra == {"decoder": "taesd"}
    bf16 = create_image_generator(SMALL.replace("image", dtype="bfloat16"), store)
    assert make(bf16, ImageRequest("a boat", seed=2)).image.size == (64, 64)


# -- the history ----------------------------------------------------------------------------------
def test_history_again_and_variations(generator: DiffusersImageGenerator, tmp_path: Path) -> None:
    history = ImageHistory(tmp_path / "images")
    first = history.add(make(generator, ImageRequest("a fox", seed=10)))
    assert first.path.parent == tmp_path / "images" and first.path.is_file()
    assert read_png_metadata(first.path)["seed"] == "10"
    again = history.again(first.id)
    assert again.prompt == "a fox" and again.seed is None and again.steps == 3
    takes = history.variations(first.id, 3)
    assert [r.seed for r in takes] == [11, 12, 13] and {r.init_image for r in takes} == {None}
    redraws = history.variations(first.id, 2, from_picture=True)
    assert {(r.init_image, r.strength) for r in redraws} == {(first.path, VARIATION_STRENGTH)}
    second = history.add(make(generator, redraws[0]), parent=first.id)
    assert second.parent == first.id and second.init_image == first.path
    assert [g.id for g in history.recent()] == [second.id, first.id]
    assert ImageHistory(tmp_path / "images").get(second.id) == second  # it persists
    history.delete(second.id)
    assert not second.path.exists() and [g.id for g in history.recent()] == [first.id]
    with pytest.raises(UserVisibleError, match="No picture"):
        history.get(999)


# -- no model installed: say so, never fake a picture --------------------------------------------
def test_without_an_image_model_the_factory_names_the_pull_command(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as err:
        create_image_generator(Config(), ModelStore(tmp_path))
    message = str(err.value)
    assert "no image model is installed" in message
    assert "assistant models pull sd-turbo" in message and "Traceback" not in message
    with pytest.raises(ConfigError, match="not an image model.*sd-turbo"):
        create_image_generator(
            Config().replace("image", model="whisper-base"), ModelStore(tmp_path)
        )


def test_the_tool_loads_lazily_and_answers_honestly_without_a_model(tmp_path: Path) -> None:
    made: list[int] = []

    def factory() -> ImageGenerator:
        made.append(1)
        return create_image_generator(Config(), ModelStore(tmp_path / "data"))

    box = ToolBox([image_tool(factory, tmp_path / "images")])
    assert made == []  # building the tool loads nothing
    answer = box.run(ToolCall("generate_image", {"prompt": "a cat in a hat"}))
    assert made == [1]
    assert answer.startswith("Error:") and "no image model is installed" in answer
    assert "assistant models pull sd-turbo" in answer and "attached image" not in answer
    assert not (tmp_path / "images").exists()


def test_sessions_offer_the_tool_without_loading_a_model(tmp_path: Path) -> None:
    from assistant_app.kernel.session import toolbox_for

    box = toolbox_for(Profile("default"), keep_dir=tmp_path / "attachments", drawing=True)
    found = box.get("generate_image")
    assert found is not None and found.permission == "allow"
    assert set(found.parameters["properties"]) == {"prompt", "seed", "image", "strength"}
    assert image_events(box) is not None and image_events(ToolBox([])) is None
    assert toolbox_for(Profile("default")).get("generate_image") is None
    no_model = toolbox_for(Profile("default"), keep_dir=tmp_path / "attachments")
    assert no_model.get("generate_image") is None  # not offered without an image model


def test_without_an_image_model_the_assistant_is_told_it_cannot_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offered a drawing tool it cannot use, the 1.5B model drew "Plot sin(x)" with it: the tool
    is offered only when an image model is installed, and the system prompt says why not."""
    from assistant_app.kernel import session as sessions

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    empty = Config().replace("models", dir=str(tmp_path / "no-models"))
    assert not sessions.image_model_ready(empty)
    model = ScriptedToolModel([[ReplyDelta(text="I cannot draw here.")]])
    chat = sessions.build_session(empty, model, Profile("default"), tools=True, persist=False)
    assert chat.toolbox.get("generate_image") is None
    assert sessions.NO_DRAWING in chat.system.content
    assert "assistant models pull sd-turbo" in sessions.NO_DRAWING
    monkeypatch.setattr(sessions, "image_model_ready", lambda config: True)
    chat = sessions.build_session(empty, model, Profile("default"), tools=True, persist=False)
    assert chat.toolbox.get("generate_image") is not None
    assert sessions.NO_DRAWING not in chat.system.content


# -- the tool in a chat ---------------------------------------------------------------------------
def test_a_chat_turn_draws_and_attaches_the_picture(
    generator: DiffusersImageGenerator, tmp_path: Path
) -> None:
    events = ImageToolEvents()
    seen: list[tuple[int, int]] = []
    events.on_progress = lambda d, t: seen.append((d, t))
    drawing = image_tool(lambda: generator, tmp_path / "images", events)
    call = ToolCall("generate_image", {"prompt": "a lighthouse, watercolour", "seed": 9})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], [ReplyDelta(text="Here it is.")]])
    session = ChatSession(model, "s", ToolBox([drawing]))
    reply = "".join(session.stream("Paint me a lighthouse"))
    assert reply.startswith("Here it is.")
    path = Path(reply.split("(attached: ")[1].rstrip(")"))
    assert path.parent == tmp_path / "images" and path.read_bytes()[:4] == b"\x89PNG"
    assert read_png_metadata(path)["seed"] == "9" and seen[-1] == (3, 3)
    result = session.history[2].content
    assert result.splitlines()[0] == f"attached image: {path}" and "seed: 9" in result
    assert model.seen[1][-1].prompt == f"{result}\n{RESULT_NOTE}"  # it reads the seed


def test_stop_in_the_chat_stops_the_picture(
    generator: DiffusersImageGenerator, tmp_path: Path
) -> None:
    call = ToolCall("generate_image", {"prompt": "a cat"})
    model = ScriptedToolModel([[ReplyDelta(tool_call=call)], []])  # stopped: nothing more said
    events = ImageToolEvents()
    session = ChatSession(model, "s", ToolBox([image_tool(lambda: generator, tmp_path, events)]))
    events.on_progress = lambda done, total: session.stop()  # Stop pressed during step 1
    assert "".join(session.stream("draw a cat")) == ""
    assert session.history[2].content == "Stopped after 1 step: no picture was made."
    assert not list(tmp_path.glob("*.png"))


# -- configuration and catalog ---------------------------------------------------------------------
def test_image_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="Valid values: float32, bfloat16"):
        parse_config({"image": {"dtype": "float16"}})
    with pytest.raises(ConfigError, match="tiny_decoder must be a bool"):
        parse_config({"image": {"tiny_decoder": "yes"}})
    assert parse_config({"image": {"size": "256x256", "threads": 1}}).image.threads == 1


def test_catalog_image_models_come_from_the_hub_with_pinned_hashes() -> None:
    entries = [e for e in catalog.CATALOG if e.role == "image"]
    assert {"sd-turbo", "sdxs-512-0.9", "bk-sdm-tiny", "taesd"} <= {e.name for e in entries}
    for entry in entries:
        assert entry.sources == ("hub",) and entry.hub_repo and entry.license
        assert not entry.default  # nothing to install offline: never in `models pull --defaults`
        assert entry.hash_note == "hash pinned on first download"
    turbo = catalog.find("sd-turbo")
    assert "model_index.json" in {f.name for f in turbo.files} and 2e9 < turbo.size < 3e9
    first = "import models.diffusion, models.catalog as c; print(c.generator_names()[0])"
    fresh = subprocess.run([sys.executable, "-c", first], capture_output=True, text=True, cwd=ROOT)
    assert fresh.stdout.strip() == "sd-turbo", fresh.stderr  # no import cycle with the catalog


# -- the command ----------------------------------------------------------------------------------
def assistant(tmp_path: Path, *args: str, endpoint: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[models]\nhub_endpoint = "{endpoint}"\n[image]\nsize = "64x64"\nthreads = 1\n'
    )
    env = {
        **os.environ,
        "ASSISTANT_CONFIG": str(config),
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "HF_HOME": str(tmp_path / "hf"),  # no stored login, no cache outside the test
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant_app.cli", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=240,
    )  # fmt: skip


def test_imagine_end_to_end_after_a_pull_from_a_hub_stand_in(tmp_path: Path) -> None:
    missing = assistant(tmp_path, "imagine", "a lighthouse")
    assert missing.returncode == 1
    assert "no image model is installed" in missing.stderr
    assert "assistant models pull sd-turbo" in missing.stderr and "Traceback" not in missing.stderr

    turbo = catalog.find("sd-turbo")
    files = hub_files(turbo, save_tiny_pipeline(tmp_path / "built", variant="fp16"))
    with HubStandin(turbo.hub_repo, files) as endpoint:
        pulled = assistant(tmp_path, "models", "pull", "sd-turbo", endpoint=endpoint)
    assert pulled.returncode == 0, pulled.stderr

    out = tmp_path / "out.png"
    args = ("imagine", "a lighthouse", "--seed", "7", "--steps", "2", "-o", str(out))
    done = assistant(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == str(out) and "seed 7" in done.stdout
    assert "step 1/2" in done.stderr and "step 2/2" in done.stderr
    assert "Traceback" not in done.stderr and "torchvision" not in done.stderr
    text = read_png_metadata(out)
    assert (text["seed"], text["model"], text["size"], text["steps"]) == (
        "7",
        "sd-turbo",
        "64x64",
        "2",
    )
    kept = ImageHistory(tmp_path / "data" / "images").recent()
    assert len(kept) == 1 and kept[0].seed == 7 and kept[0].path.is_file()


def test_imagine_from_a_sketch(
    store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # noqa: ANN001
    from assistant_app.cli import imagine as cli_imagine
    from assistant_app.cli.main import build_parser

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("models.store.open_store", lambda config: store)
    Image.new("RGB", (64, 64), "white").save(tmp_path / "sketch.png")
    out = tmp_path / "watercolour.png"
    argv = ["imagine", "a watercolour", "--image", str(tmp_path / "sketch.png"),
            "--strength", "0.5", "--steps", "4", "--seed", "3", "-o", str(out)]  # fmt: skip
    assert cli_imagine.run(build_parser().parse_args(argv), SMALL) == 0
    assert capsys.readouterr().out.splitlines()[0] == str(out)
    text = read_png_metadata(out)
    assert (text["init_image"], text["strength"], text["seed"]) == (
        str(tmp_path / "sketch.png"),
        "0.5",
        "3",
    )


def test_ctrl_c_stops_the_picture_after_the_step_in_progress() -> None:
    class Slow:
        name = "slow"

        def generate(self, request, cancel, progress):  # noqa: ANN001, ANN201
            for step in range(1, 51):
                progress(step, 50)
                if step == 2:
                    _thread.interrupt_main()  # the user presses Ctrl+C during step 3
                deadline = time.monotonic() + 5
                while step >= 3 and not cancel.cancelled and time.monotonic() < deadline:
                    time.sleep(0.01)
                if cancel.cancelled:
                    return ImageResult(None, request.prompt, 1, 50, 64, 64, 0.0, "slow",
                                       steps_done=step, cancelled=True)  # fmt: skip
            raise AssertionError("not stopped")

    steps: list[int] = []
    result = generate_stoppably(Slow(), ImageRequest("x"), lambda d, t: steps.append(d))
    assert result.cancelled and result.steps_done == 3 and steps == [1, 2, 3]
