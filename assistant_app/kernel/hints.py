"""Hints for the turn at hand: a calculation goes to a tool; a picture without an image model
is declined, by the kernel, with the command that installs one."""

from __future__ import annotations

import re

from assistant_app.core.errors import ToolError
from assistant_app.core.messages import ToolCall
from assistant_app.tools.calculator import calculate

# A number and a word or sign of arithmetic, a percentage, a conversion or a rate: the model
# must not work it out in its head (small models get products and conversions wrong).
_NUMBER = re.compile(r"\d")
_CUE = re.compile(
    r"\b(times|multipl\w*|divided|divide|plus|minus|percent\w*|squared|cubed|square root|"
    r"power of|sum|total|average|mean|convert\w*|how many|how much|per|ratio|tip|interest|"
    r"fahrenheit|celsius|kilomet\w*|miles?|pounds?|kilo\w*|ounces?|feet|foot|inch\w*|"
    r"litres?|liters?|gallons?)\b|[%×÷*/^+=]|\d\s*-\s*\d",
    re.IGNORECASE,
)
CALCULATION = (
    "The user's message asks for a calculation: call the {tools} tool for it, however simple, "
    "and then state the result it gives, with its unit."
)


# Plainly a calculation: an operation between numbers, a percentage of a number, a power or
# root, a unit conversion or an average speed. The first step of such a turn must be a call.
_PLAIN = re.compile(
    r"\d\s*(?:[x×*/^+÷]|times|multiplied by|divided by|plus|minus|to the power of)\s*\$?\d"
    r"|\b(?:multiply|divide|add|subtract)\b[^.?!]*\d[^.?!]*\b(?:by|and|to|from)\b[^.?!]*\d"
    r"|\d(?:[\d.,]*)\s*(?:%|percent)\s+(?:of|on)\s+\$?\d"
    r"|\b(?:square root|factorial)\b[^.?!]*\d|\d[^.?!]*\b(?:squared|cubed)\b"
    r"|\bhow many\s+\w+\s+(?:is|are|in|make)\s+\$?\d[\d.,]*\s*\w+"
    r"|\d[\d.,]*\s*(?:degrees\s+)?(?:celsius|fahrenheit)\b[^.?!]*\b(?:in|to)\b"
    r"|\bconvert\b[^.?!]*\d|\d[^?!]*\baverage speed\b",
    re.IGNORECASE,
)


def must_calculate(text: str, offered: set[str]) -> bool:
    """Whether `text` is plainly a calculation a tool here can do: its first step is a call."""
    return bool(offered & {"calculator", "python"}) and bool(_PLAIN.search(text))


# Words that may need a tool (code, plots, files and notes, pictures, sums): a message with
# none of them and no number is answered directly (the 1.5B model sent "What is the capital
# of France?" to the calculator when it could call one).
_TOOL_WORDS = re.compile(
    r"\b(plot\w*|chart|graph|histogram|diagram|python|code|script|program\w*|run|execute|csv|"
    r"tables?|spreadsheet|data|files?|folders?|notes?|search|look up|find|draw|paint|picture|"
    r"image|photo|calculat\w*|comput\w*|convert\w*|average|sum|percent\w*)\b|[|=+*/^%]",
    re.IGNORECASE,
)
DIRECT = "This message needs no tool: answer it directly, in words."


def needs_no_tool(text: str) -> bool:
    """Whether `text` plainly asks for no tool: no number and no word that may need one."""
    return not _NUMBER.search(text) and not _TOOL_WORDS.search(text)


def calculation_hint(text: str, offered: set[str]) -> str:
    """The hint for `text` when it asks for a calculation and a tool can do it; else ""."""
    tools = [t for t in ("calculator", "python") if t in offered]
    if not tools or not _NUMBER.search(text) or not _CUE.search(text):
        return ""
    return CALCULATION.format(tools=" or ".join(tools))


# "Draw me a cat", "paint a lighthouse", "make an image of …"; not "draw up a list" or charts.
_PICTURE = re.compile(
    r"\b(draw|paint)\s+(me\s+|us\s+)?(a|an|the|some|my)\b|"
    r"\b(generate|create|make)\s+(me\s+)?(a|an)\s+(picture|image|drawing|painting|illustration|"
    r"photo)\b|^\s*(a\s+)?(picture|image|drawing|painting) of\b",
    re.IGNORECASE,
)
_CHART = re.compile(r"\b(plot|chart|graph|histogram|diagram)\b", re.IGNORECASE)
NO_IMAGE_MODEL = (
    "I can't draw pictures here: no image model is installed. Run `assistant models pull "
    "sd-turbo` once while online to install one, then ask me again."
)


def wants_a_picture(text: str) -> bool:
    """Whether `text` asks for a picture to be made (charts and plots are python's job)."""
    return bool(_PICTURE.search(text)) and not _CHART.search(text)


def misrouted(call: ToolCall, text: str) -> bool:
    """A calculator call for a message with no number in it whose expression is no arithmetic
    either ("capital of France"): small models do that with tools offered. It is not run."""
    if call.name != "calculator" or _NUMBER.search(text):
        return False
    try:
        calculate(str(call.arguments.get("expression", "")))
    except ToolError:
        return True
    return False
