"""The tools every assistant starts with."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant_app.core.cancel import CancelToken
from assistant_app.core.errors import ToolError
from assistant_app.kernel.tables import TableFiles
from assistant_app.tools.calculator import calculate
from assistant_app.tools.toolbox import Tool, ToolBox, tool

if TYPE_CHECKING:
    from models.image_meta import ImageGenerator


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly. Use it for any arithmetic, for statistics
    of a list of numbers and for unit conversions.

    expression: one expression: 1234*5678, 2^40, 15% of 80, median(3, 9, 4), convert(5, "mi", "km")
    """
    value = calculate(expression)
    # 19.6 + 18.1 is 37.7 to the user, not 37.699999999999996.
    return f"{expression} = {f'{value:.12g}' if isinstance(value, float) else value}"


PREVIEW_LINES = 12  # of each data file a python run made, shown to the model
# A small model reads a cited note ("Source: notes/budget.md") as a file it can open.
NO_FILES = (
    "The code runs in an empty folder: the user's notes and files are not there. Write the "
    "numbers and text from the conversation into the code itself."
)


def python_tool(keep_dir: Path, tables: TableFiles | None = None) -> Tool:
    """Runs model-written Python in the sandbox; asks the user first by default. The tables
    pasted into the conversation are in its folder."""

    @tool(permission="ask", sensitive=True)
    def python(code: str, cancel: CancelToken) -> str:
        """Run Python code (numpy, pandas and matplotlib available) and get its output. It
        starts in an empty folder with no files: put the data from the conversation in the
        code. Figures and files it creates are attached to the reply. Print the results.

        code: a complete Python program
        """
        from assistant_app.tools.sandbox import run_python

        inputs = tables.files if tables else None
        result = run_python(code, keep_dir=keep_dir, inputs=inputs, cancel=cancel)
        if tables is not None:
            tables.files.update(result.texts)  # the next run starts from what this one left
        lines = [f"stdout:\n{result.stdout}" if result.stdout else "(no output)"]
        if not result.ok:
            lines.append(f"Error: {result.error or 'the code failed'}\n{result.stderr}".strip())
            if "FileNotFoundError" in result.error + result.stderr:
                lines.append(NO_FILES)
        lines += [f"attached image: {p}" for p in result.images]
        lines += [f"attached file: {p}" for p in result.files if p not in result.images]
        for name, text in result.texts.items():  # the model states what a table it made holds
            head = text.splitlines()[:PREVIEW_LINES]
            more = " (first lines)" if len(text.splitlines()) > PREVIEW_LINES else ""
            lines.append(f"{name}{more}:\n" + "\n".join(head))
        return "\n".join(lines)

    return python


@dataclass
class ImageToolEvents:
    """Hooks the window sets so a generate_image call can be watched and stopped.

    Every hook runs in the thread that runs the tool (the chat worker), never the GUI thread:
    forward to the GUI through queued signals. Set them any time before the call.
    - `on_status(text)`: before the first picture, "loading the image model ...".
    - `on_progress(step, total)`: after each denoising step (then the picture is decoded).
    The picture stops within a step once the turn's token is cancelled (Stop, barge-in).
    """

    on_status: Callable[[str], None] | None = None
    on_progress: Callable[[int, int], None] | None = None


def image_tool(
    make_generator: Callable[[], ImageGenerator],
    keep_dir: Path,
    events: ImageToolEvents | None = None,
) -> Tool:
    """The generate_image tool. `make_generator` is called on the first use only (a session
    without an image model starts fast), and its ModelUnavailable becomes the tool's answer.
    Pictures and their history go to `keep_dir` (an ImageHistory folder)."""
    hooks = events or ImageToolEvents()
    loaded: list[ImageGenerator] = []
    lock = threading.Lock()

    def generator() -> ImageGenerator:
        with lock:
            if not loaded:
                if hooks.on_status is not None:
                    hooks.on_status("loading the image model ...")
                loaded.append(make_generator())
            return loaded[0]

    def generate_image(
        prompt: str,
        cancel: CancelToken,
        seed: int = -1,
        image: str = "",
        strength: float = 0.0,
    ) -> str:
        """Draw a picture with the local image model: from a description, or by redrawing a
        given image (a sketch or photo the user dropped) as described. The picture is shown to
        the user. It writes only into the app's own images folder, so it runs without asking.

        prompt: what the picture shows and its style, e.g. a watercolour of a lighthouse at dusk
        seed: the same seed and prompt make the same picture again; -1 for a new one
        image: path of an image to start from ("turn this sketch into ..."); empty for none
        strength: with image: how much to change it, 0.1 (a little) to 1.0 (all); 0: default
        """
        from assistant_app.core.errors import ModelUnavailable, UserVisibleError
        from assistant_app.storage.image_history import ImageHistory
        from models.image_meta import ImageRequest

        if not prompt.strip():
            raise ToolError("the prompt is empty: describe the picture.")
        start = Path(image).expanduser() if image.strip() else None
        if start is not None and not start.is_file():
            raise ToolError(f"there is no image file at {start}.")
        request = ImageRequest(prompt.strip(), None if seed < 0 else seed, init_image=start,
                               strength=strength)  # fmt: skip
        try:
            result = generator().generate(
                request, cancel, hooks.on_progress or (lambda done, total: None)
            )
        except (ModelUnavailable, UserVisibleError) as exc:
            raise ToolError(str(exc)) from exc
        if result.cancelled:
            steps = f"{result.steps_done} step{'' if result.steps_done == 1 else 's'}"
            return f"Stopped after {steps}: no picture was made."
        made = ImageHistory(keep_dir).add(result)
        return (
            f"attached image: {made.path}\n"
            f"seed: {made.seed} (model {made.model}, {made.steps} steps, "
            f"{made.width}x{made.height}, {made.seconds:.1f} s); the same seed and prompt make "
            "the same picture again."
        )

    generate_image.events = hooks  # type: ignore[attr-defined]  # see image_events()
    return tool(generate_image)


def image_events(tools: ToolBox) -> ImageToolEvents | None:
    """The hooks of the generate_image tool in `tools` (a session's toolbox), for the window to
    set; None when the toolbox has no such tool."""
    found = tools.get("generate_image")
    return getattr(found.function, "events", None) if found is not None else None


_shared: dict[object, ImageGenerator] = {}
_shared_lock = threading.Lock()


def configured_image_generator() -> ImageGenerator:
    """The generator the config file's [image] section names, loaded once per process (read
    when the tool is first called, so later sessions reuse the loaded model)."""
    from assistant_app.core.config import load_config
    from models.diffusion import create_image_generator
    from models.store import open_store

    config = load_config()
    key = (config.image, config.models)
    with _shared_lock:
        if key not in _shared:
            _shared.clear()  # settings changed: let the old model go
            _shared[key] = create_image_generator(config, open_store(config))
        return _shared[key]


def default_tools(keep_dir: Path | None = None, tables: TableFiles | None = None) -> list[Tool]:
    """Every built-in tool; the Python tool needs a folder for what the code creates."""
    return [calculator] + ([python_tool(keep_dir, tables)] if keep_dir is not None else [])
