"""A calculation's answer in the kernel's own words: a spoken turn whose calculation the kernel
called itself says the result at once, instead of waiting seconds for the model to write it."""

from __future__ import annotations

import math
import re

_CONVERT = re.compile(r'^convert\((-?[\d.]+), "([^"]+)", "([^"]+)"\)$')
_RATE = re.compile(r'^convert\(.+, "([^"]+)", "\1"\)$')  # a speed the kernel worked out
_STATISTIC = re.compile(r"^(mean|median|stdev|range|sum)\(")
_BINARY = re.compile(r"^(-?[\d.]+) ([-+*/x×]) (-?[\d.]+)$")
_PERCENT = re.compile(r"^\((-?[\d.]+)/100\*(-?[\d.]+)\)$")  # "15% of 80", as the kernel writes it
_SIGNS = {"*": "times", "x": "times", "×": "times", "/": "divided by", "+": "plus", "-": "minus"}
_STATISTICS = {"mean": "average", "median": "median", "stdev": "standard deviation",
               "range": "range", "sum": "total"}  # fmt: skip
# Units as people say them; a unit not here is said as the user wrote it.
_UNITS = {
    "c": "degrees Celsius", "°c": "degrees Celsius", "degc": "degrees Celsius",
    "celsius": "degrees Celsius", "f": "degrees Fahrenheit", "°f": "degrees Fahrenheit",
    "degf": "degrees Fahrenheit", "fahrenheit": "degrees Fahrenheit", "k": "kelvin",
    "km": "kilometres", "m": "metres", "cm": "centimetres", "mm": "millimetres", "mi": "miles",
    "ft": "feet", "in": "inches", "yd": "yards", "kg": "kilograms", "g": "grams",
    "lb": "pounds", "lbs": "pounds", "oz": "ounces", "l": "litres", "ml": "millilitres",
    "gal": "gallons", "km/h": "kilometres per hour", "kmh": "kilometres per hour",
    "kph": "kilometres per hour", "mph": "miles per hour", "m/s": "metres per second",
    "h": "hours", "hr": "hours", "min": "minutes", "s": "seconds",
}  # fmt: skip


def stated(expression: str, result: str) -> str:
    """The answer to the calculator call `expression`, whose result reads `result` ("83 * 65 =
    5395"), as one sentence: "83 times 65 is 5,395." Empty when the result is no number (an
    error): the model then answers."""
    value = result.splitlines()[0].rpartition(" = ")[2] if result else ""
    try:
        number = float(value)
    except ValueError:
        return ""
    said = _number(number)
    if found := _RATE.match(expression):
        return f"That's an average of {said} {_UNITS.get(found[1], found[1])}."
    if found := _CONVERT.match(expression):
        source, target = (_UNITS.get(u.lower(), u) for u in found.group(2, 3))
        return f"{_number(float(found[1]))} {source} is {said} {target}."
    if found := _STATISTIC.match(expression):
        return f"The {_STATISTICS[found[1]]} is {said}."
    if found := _PERCENT.match(expression):
        return f"{_number(float(found[1]))}% of {_number(float(found[2]))} is {said}."
    if found := _BINARY.match(" ".join(expression.split())):
        a, b = (_number(float(v)) for v in found.group(1, 3))
        return f"{a} {_SIGNS[found[2]]} {b} is {said}."
    return f"That's {said}."


def _number(value: float) -> str:
    """A number as people read it: whole numbers with thousands commas, others to two decimal
    places ("about" when rounded), small ones to three significant digits, never as 2e-06."""
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    places = 2 if abs(value) >= 0.01 else 2 - math.floor(math.log10(abs(value)))
    shown = f"{value:,.{places}f}".rstrip("0").rstrip(".")
    return shown if float(shown.replace(",", "")) == value else f"about {shown}"
