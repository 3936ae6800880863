"""Hints for the turn at hand: a calculation goes to a tool, a chart, a date sum, a series or a
pasted table's sum to python, a picture to the image tool; a picture without an image model is
declined, by the kernel, with the command that installs one."""

from __future__ import annotations

import re

from assistant_app.core.errors import ToolError
from assistant_app.core.messages import ToolCall
from assistant_app.kernel.reach import reach_hint
from assistant_app.tools.calculator import UNIT_NAMES, calculate

# A number and a word or sign of arithmetic, a percentage, a conversion or a rate: the model
# must not work it out in its head (small models get products and conversions wrong).
_NUMBER = re.compile(r"\d")
_CUE = re.compile(
    r"\b(times|multipl(?:y|ied|ies|es|ication)|divided|divide|plus|minus|percent\w*|squared|"
    r"cubed|square root|power of|sum|total|average|mean|convert\w*|how many|how much|per|"
    r"ratio|tip|interest|fahrenheit|celsius|kilomet\w*|miles?|pounds?|kilo\w*|ounces?|feet|foot|inch\w*|"
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
    r"\d\s*(?:[x×*/^+÷]|times?|multiplied by|divided by|plus|minus|to the power of)\s*\$?\d"
    r"|\b(?:multiply|divide|add|subtract)\b[^.?!]*\d[^.?!]*\b(?:by|and|to|from)\b[^.?!]*\d"
    r"|\bmult[a-z]{3,6}\s+\d[\d.]*\s+(?:by|and|with)\s+\d"  # "Multitly 69 by 88": misheard
    r"|\d(?:[\d.,]*)\s*(?:%|percent)\s+(?:of|on)\s+\$?\d"
    r"|\b(?:square root|factorial)\b[^.?!]*\d|\d[^.?!]*\b(?:squared|cubed)\b"
    r"|\bhow many\s+\w+\s+(?:is|are|in|make)\s+\$?\d[\d.,]*\s*\w+"
    r"|\d[\d.,]*\s*(?:degrees\s+)?(?:celsius|fahrenheit)\b[^.?!]*\b(?:in|to)\b"
    r"|\bconvert\b[^.?!]*\d|\d[^?!]*\baverage speed\b",
    re.IGNORECASE,
)


def must_calculate(text: str, offered: set[str]) -> bool:
    """Whether `text` is plainly a calculation a tool here can do: its first step is a call."""
    if not offered & {"calculator", "python"}:
        return False
    if _PLAIN.search(text):
        return True
    # Two numbers or more and a word of arithmetic: "19% VAT on 85 euros", "the mean of 3, 8
    # and 12", "I weigh 75 kg and am 1.85 m tall: my BMI?".
    return len(_NUMBERS.findall(text)) >= 2 and bool(_CUE.search(text) or _STATS.search(text))


_NUMBERS = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
_STATS = re.compile(
    r"\b(mean|median|mode|standard deviation|variance|range|bmi|sum|add up|interest|"
    r"discount|off|tip|vat|tax|rise|increase|decrease|grow\w*|kg|km|mph|cm|lbs?)\b",
    re.IGNORECASE,
)
# Work for python: a chart, arithmetic on dates, code asked for by name.
_PLOT = re.compile(r"\b(plot\w*|chart|graph|histogram|scatter ?plot|visuali[sz]e)\b", re.IGNORECASE)
_DATES = re.compile(
    r"\bdays?\s+(?:are\s+there\s+)?(?:between|until|since|from)\b|\bday of the week\b|"
    r"\b\d+\s+(?:days|weeks|months)\s+(?:after|before|from|ago)\b|\bhow old\b|\bleap year\b|"
    r"\bwhat (?:day|date) (?:is|was|will)\b.*\d",
    re.IGNORECASE,
)
_BY_NAME = re.compile(r"\b(use|using|with|in|run|write)\s+(?:some\s+)?(python|code)\b", re.I)
# A series over a range ("the squares of the numbers from 1 to 14", "primes between 10 and
# 50"): the calculator takes one expression, not a loop (the model's sum(i**2 for …) failed).
_SERIES = re.compile(
    r"\b(?:squares?|cubes?|primes?|prime numbers|(?:even|odd|whole|natural) (?:numbers|integers)"
    r"|multiples|factorials?)\b(?:\s+[\w']+){0,5}?\s+(?:from|between)\s+(?:\d[\d,]*|one|zero)"
    r"\s+(?:to|and|through)\s+\d",
    re.IGNORECASE,
)
# A question about a pasted table that wants something worked out of it.
_TABLE_SUM = re.compile(
    r"\b(total|sum|average|mean|median|how many|count|times|highest|lowest|largest|"
    r"smallest|most|least|max\w*|min\w*|compare|rank|sort|impute|missing)\b",
    re.IGNORECASE,
)


def route(text: str, offered: set[str], table: bool = False) -> str:
    """The tool the first step of a turn must call: a tool's name, "required" (a calculation:
    calculator or python), or "" (the model chooses). `table`: the turn came with a table."""
    if "generate_image" in offered and wants_a_picture(text):
        return "generate_image"
    if "python" in offered and (
        _PLOT.search(text) or _DATES.search(text) or _BY_NAME.search(text)
        or _SERIES.search(text) or (table and _TABLE_SUM.search(text))
    ):  # fmt: skip
        return "python"
    if must_calculate(text, offered) or (offered & {"calculator"} and written_calculation(text)):
        # The calculator is exact and quick; left to choose, small models pick another tool.
        return "calculator" if "calculator" in offered else "required"
    return ""


# Words that may need a tool (code, plots, files and notes, pictures, sums): a message with
# none of them and no number is answered directly (the 1.5B model sent "What is the capital
# of France?" to the calculator when it could call one).
_TOOL_WORDS = re.compile(
    r"\b(plot\w*|chart|graph|histogram|diagram|python|code|script|program\w*|run|execute|csv|"
    r"tables?|spreadsheet|data|files?|folders?|notes?|search|look up|find|draw|paint|picture|"
    r"image|photo|calculat\w*|comput\w*|convert\w*|average|sum|total|percent\w*)\b|[|=+*/^%]",
    re.IGNORECASE,
)
DIRECT = "This message needs no tool: answer it directly, in words."
# Asked for something long, the 1.5B model may stop after one paragraph (87 words for "Write a
# long story about a lighthouse keeper", greedy, on one build of llama.cpp).
_LONG = re.compile(
    r"\b(?:long|longer|lengthy|detailed)\s+(?:\w+\s+)?(?:story|tale|poem|essay|letter|article|"
    r"explanation|description|answer|speech|post)\b|\bin (?:great |full )?detail\b|\bat length\b"
    r"|\b(?:several|many|\d+|two|three|four|five|six) paragraphs\b",
    re.IGNORECASE,
)
AT_LENGTH = "It asks for something long: write it in full, in several paragraphs."


def direct(text: str) -> str:
    """The hint for a message that needs no tool: answer in words (and at length, if asked)."""
    return f"{DIRECT} {AT_LENGTH}" if _LONG.search(text) else DIRECT


PASSAGES_IN_CODE = (
    "The python tool cannot open the user's files: to compute with the passages above, write "
    "the values from them into the code."
)


def needs_no_tool(text: str) -> bool:
    """Whether `text` plainly asks for no tool: no word that may need one, and at most one
    number with no arithmetic word ("Give me 3 tips", "When did Apollo 11 land?"). A lone
    percentage is a figure, not a sum ("an 80% chance of rain"): there is nothing to take it of."""
    if len(_NUMBERS.findall(text)) > 1:
        return False
    text = re.sub(r"(?<=\d)\s*(?:%|percent\b)", "", text)
    return not _TOOL_WORDS.search(text) and not _CUE.search(text)


def turn_hint(text: str, offered: set[str], tools: bool) -> str:
    """The hint before a turn's first step: why not, for what is out of reach (a text to send,
    an alarm, the weather); in words, for a message that needs no tool (with `tools` on); with
    a tool, for a calculation; else ""."""
    if hint := reach_hint(text):
        return hint
    return direct(text) if tools and needs_no_tool(text) else calculation_hint(text, offered)


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
# The reply when the model ends a turn without a word (seen once in bench/voice_tasks.py on a
# misheard "Multitly 69 by 88."): silence would leave the user waiting.
NO_WORDS = "I'm not sure how to answer that. Could you say it another way?"
NO_IMAGE_MODEL = (
    "I can't draw pictures here: no image model is installed. Run `assistant models pull "
    "sd-turbo` once while online to install one, then ask me again."
)


def wants_a_picture(text: str) -> bool:
    """Whether `text` asks for a picture to be made (charts and plots are python's job)."""
    return bool(_PICTURE.search(text)) and not _CHART.search(text)


def misrouted(call: ToolCall, text: str) -> bool:
    """A calculator call that calculates nothing: a bare number ("8", for how many legs a
    spider has), or, for a message with no number in it, no arithmetic either ("capital of
    France"). Small models make them with tools offered. It is not run."""
    if call.name != "calculator":
        return False
    if re.fullmatch(r"\s*[-+]?\d[\d,.]*\s*", str(call.arguments.get("expression", ""))):
        return True
    if _NUMBER.search(text):
        return False
    try:
        calculate(str(call.arguments.get("expression", "")))
    except ToolError:
        return True
    return False


# -- calculations the user wrote out -------------------------------------------------------------
_WORDS_TO_SIGNS = (
    (r"\bmultiplied by\b|\btimes\b|(?<=\d )time\b(?= \d)", "*"),  # "58 time 85": misheard
    (r"\bdivided by\b|\bover\b", "/"),
    (r"\bplus\b", "+"), (r"\bminus\b", "-"), (r"\bto the power of\b", "**"),
    (r"\bsquare root of\s+(\d[\d.]*)", r"sqrt(\1)"), (r"(\d[\d.]*)\s+squared\b", r"(\1**2)"),
    (r"(\d[\d.]*)\s+cubed\b", r"(\1**3)"),
    (r"(\d[\d.]*)\s*(?:%|percent)\s+of\s+(\d[\d.]*)", r"(\1/100*\2)"),
    # The verb first: "Multiply 53 by 31", "Divide 144 by 12", "Subtract 19 from 100"; the
    # ears may write "multiply" as "multitly" or "multiple" (a number follows: no other verb).
    (r"\bmult[a-z]{3,6}\s+(\d+(?:\.\d+)?)\s+(?:by|and|with)\s+(\d+(?:\.\d+)?)", r"\1 * \2"),
    (r"\bdivide\s+(\d+(?:\.\d+)?)\s+by\s+(\d+(?:\.\d+)?)", r"\1 / \2"),
    (r"\badd\s+(\d+(?:\.\d+)?)\s+(?:and|to)\s+(\d+(?:\.\d+)?)", r"\1 + \2"),
    (r"\bsubtract\s+(\d+(?:\.\d+)?)\s+from\s+(\d+(?:\.\d+)?)", r"\2 - \1"),
)  # fmt: skip
_OPERAND = r"(?:sqrt\(\d[\d.]*\)|\d[\d.]*)"
_EXPRESSION = re.compile(rf"[-(\s]*{_OPERAND}(?:[\s()]*(?:\*\*|[-+*/x×÷^])[\s(]*{_OPERAND})*[\s)]*")
_UNIT = "|".join(
    re.escape(n).replace(r"\ ", r"\s+") + ("(?:es|s)?" if n[-1].isalpha() and len(n) > 2 else "")
    for n in sorted(UNIT_NAMES, key=len, reverse=True)
)
_CONVERSIONS = (
    # "212°F … in Celsius", "Convert 40 kg to pounds", "80 km/h in miles per hour"
    re.compile(
        rf"(?<![\w.])(-?\d[\d.]*)\s*(?:°\s*|degrees?\s+)?(?P<a>{_UNIT})(?![\w/])[^?!]*?"
        rf"\b(?:in|to|into)\s+(?:us\s+)?(?:°\s*|degrees?\s+)?(?P<b>{_UNIT})(?![\w/])",
        re.IGNORECASE,
    ),
    # "How many metres are 12 feet?"
    re.compile(
        rf"\bhow\s+many\s+(?:us\s+)?(?P<b>{_UNIT})\s+(?:is|are|in|make|does|do)\s+"
        rf"(-?\d[\d.]*)\s*(?:°\s*|degrees?\s+)?(?P<a>{_UNIT})(?![\w/])",
        re.IGNORECASE,
    ),
)


# "I drove 120 km in 2 hours. What was my average speed?": a distance, a time and a speed.
_TRIP = re.compile(
    r"(?<![\w.])(?P<d>\d+(?:\.\d+)?)\s*(?P<du>km|kilomet(?:er|re)s?|miles?|mi|met(?:er|re)s?|m)\b"
    r"[^.?!]{0,40}?\bin\s+(?P<t>\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
    r"\s*(?P<tu>hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s)\b",
    re.IGNORECASE,
)
_SPEED = re.compile(r"\b(?:average speed|how fast|speed)\b", re.IGNORECASE)
_HOW_MANY = {"a": "1", "an": "1", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
             "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}  # fmt: skip
# A time in hours, minutes or seconds, into the rate's own unit of time (" / 60": minutes).
_HOURS = {"h": "", "m": " / 60", "s": " / 3600"}
_PER = {"km/h": _HOURS, "mph": _HOURS, "m/s": {"h": " * 3600", "m": " * 60", "s": ""}}


# "the average of 77, 45 and 22", "median of 3, 9, 4": a statistic of a written list.
_STATISTIC_NAMES = {"average": "mean", "mean": "mean", "median": "median", "sum": "sum",
                    "total": "sum", "standard": "stdev", "range": "range"}  # fmt: skip
_STATISTIC = re.compile(
    r"\b(?P<name>average|mean|median|sum|total|standard deviation|range)\s+(?:of\s+)?"
    r"(?:(?:these|the|my)\s+)?(?:\w+:?\s+){0,2}?"
    r"(?P<values>\$?-?\d[\d.]*(?:\s*(?:,|and|,\s*and)\s*\$?-?\d[\d.]*){2,})(?!\s*(?:[-+*/x×^]|times|plus|minus|divided))",
    re.IGNORECASE,
)


def written_calculation(text: str) -> str:
    """The calculation `text` spells out, as a calculator expression that evaluates: an average
    speed ("I drove 120 km in 2 hours: my average speed?"), a unit conversion ("How many km is
    17 miles?") or arithmetic ("(46 + 85) x 9"); else ""."""
    if (trip := _TRIP.search(text)) and _SPEED.search(text):
        distance, unit = trip["d"], trip["du"].lower()
        rate = "mph" if unit.startswith("mi") else "km/h" if unit.startswith("k") else "m/s"
        time = _HOW_MANY.get(trip["t"].lower(), trip["t"])
        per = _PER[rate][trip["tu"][0].lower()]  # the time in the rate's own unit
        time = f"({time}{per})" if per else time
        expression = f'convert({distance} / {time}, "{rate}", "{rate}")'
        if _evaluates(expression):
            return expression
    for pattern in _CONVERSIONS:
        if found := pattern.search(text):
            value = next(g for g in found.groups() if g and g[-1].isdigit())
            expression = f'convert({value}, "{_bare(found["a"])}", "{_bare(found["b"])}")'
            if _evaluates(expression):
                return expression
    if found := _STATISTIC.search(text):
        values = ", ".join(re.findall(r"-?\d+(?:\.\d+)?", found["values"]))
        expression = f"{_STATISTIC_NAMES[found['name'].lower().split()[0]]}({values})"
        if _evaluates(expression):
            return expression
    plain = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.replace("$", ""))
    plain = re.sub(r"(?<=\d)\s*([x×])\s*(?=\d)", r" \1 ", plain)  # "51x88", as Whisper writes it
    for words, sign in _WORDS_TO_SIGNS:
        plain = re.sub(words, f" {sign} " if sign in "*/+-**" else sign, plain, flags=re.I)
    spans = [" ".join(m.group(0).split()).rstrip(".") for m in _EXPRESSION.finditer(plain)]
    for span in sorted(spans, key=len, reverse=True):
        # Every number of the message is in it: "the sum of 2, 3 and 4 times 5" is no "4 * 5".
        whole = len(_NUMBERS.findall(span)) == len(_NUMBERS.findall(plain))
        if whole and (len(_NUMBERS.findall(span)) >= 2 or "sqrt" in span) and _evaluates(span):
            return span
    return ""


def _bare(unit: str) -> str:
    return " ".join(unit.lower().split())


def _evaluates(expression: str) -> bool:
    try:
        calculate(expression)
    except ToolError:
        return False
    return True
