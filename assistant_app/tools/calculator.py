"""The calculator tool's engine: safe arithmetic on a parsed AST (no eval), exact for integers."""

from __future__ import annotations

import ast
import math
import operator
import re
import statistics
from fractions import Fraction

from assistant_app.core.errors import ToolError

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "factorial": math.factorial,
    "gcd": math.gcd,
    "min": min,
    "max": max,
    "radians": math.radians,
    "degrees": math.degrees,
}
# Over a list of values, written as arguments or one [list]: mean(3, 4, 8), median([1, 5, 2]).
_OVER_VALUES = {
    "sum": sum,
    "mean": statistics.mean,
    "average": statistics.mean,
    "avg": statistics.mean,
    "median": statistics.median,
    "stdev": statistics.stdev,  # of a sample
    "stddev": statistics.stdev,
    "std": statistics.stdev,
    "pstdev": statistics.pstdev,  # of a whole population
    "variance": statistics.variance,
    "pvariance": statistics.pvariance,
    "range": lambda values: max(values) - min(values),
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
# convert(value, "from", "to"): each unit's size in its kind's base unit (metre, kilogram,
# litre, metre per second, second); temperatures are converted by formula.
_UNITS: dict[str, tuple[str, float]] = {}
for _kind, _table in {
    "length": {("m", "meter", "metre"): 1, ("km", "kilometer", "kilometre"): 1000,
               ("cm", "centimeter", "centimetre"): 0.01, ("mm", "millimeter", "millimetre"): 0.001,
               ("mi", "mile"): 1609.344, ("yd", "yard"): 0.9144, ("ft", "foot", "feet"): 0.3048,
               ("in", "inch", "inches"): 0.0254, ("nmi", "nautical mile"): 1852},
    "mass": {("kg", "kilogram", "kilo"): 1, ("g", "gram"): 0.001, ("mg", "milligram"): 1e-6,
             ("lb", "lbs", "pound"): 0.45359237, ("oz", "ounce"): 0.028349523125,
             ("st", "stone"): 6.35029318, ("t", "tonne", "ton"): 1000},
    "volume": {("l", "liter", "litre"): 1, ("ml", "milliliter", "millilitre"): 0.001,
               ("gal", "gallon", "us gallon"): 3.785411784, ("qt", "quart"): 0.946352946,
               ("pt", "pint"): 0.473176473, ("cup",): 0.2365882365,
               ("fl oz", "fluid ounce"): 0.0295735295625},
    "speed": {("m/s", "mps"): 1, ("km/h", "kmh", "kph", "kilometers per hour",
               "kilometres per hour"): 1 / 3.6, ("mph", "miles per hour"): 0.44704,
              ("kn", "knot"): 1852 / 3600},
    "time": {("s", "sec", "second"): 1, ("min", "minute"): 60, ("h", "hr", "hour"): 3600,
             ("day",): 86400, ("week",): 604800},
    "temperature": {("c", "celsius", "°c", "degc"): 0, ("f", "fahrenheit", "°f", "degf"): 0,
                    ("k", "kelvin"): 0},
}.items():  # fmt: skip
    for _names, _size in _table.items():
        for _name in _names:
            _UNITS[_name] = (_kind, _size)
UNIT_NAMES = frozenset(_UNITS)
MAX_EXPONENT = 10_000  # 2**10000 is fine; 9**9**9 would eat the machine
MAX_FACTORIAL = 5_000


# As people write them: "15% of 80", "15 percent of 80", "20%" (a % before a number is modulo).
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s*of\b", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b)(?!\s*[\d(])", re.IGNORECASE)
_TIMES = re.compile(r"(?<=[\d)])\s*[x×]\s*(?=[\d(])")


def calculate(expression: str) -> int | float:
    """Evaluates `expression`; `^` means power and `15% of 80` a percentage, as people write
    them. Raises ToolError."""
    text = _TIMES.sub("*", expression).replace("^", "**").replace("÷", "/").strip()
    text = _PERCENT.sub(r"(\1/100)", _PERCENT_OF.sub(r"(\1/100)*", text))
    if not text or len(text) > 500:
        raise ToolError("Give one arithmetic expression of at most 500 characters.")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ToolError(f"'{expression}' is not an arithmetic expression.") from None
    try:
        value = _eval(tree.body)
    except ZeroDivisionError:
        raise ToolError("Division by zero.") from None
    except (ValueError, OverflowError, TypeError) as exc:
        raise ToolError(f"Cannot compute '{expression}': {exc}.") from None
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _eval(node: ast.AST) -> int | float | Fraction:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ValueError(f"exponent {right} is too large")
        if isinstance(node.op, ast.Div) and isinstance(left, int) and isinstance(right, int):
            return Fraction(left, right)  # 7/2*2 stays exact
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name in _OVER_VALUES and not node.keywords:
            return _over_values(name, node.args)
        if name == "convert" and len(node.args) == 3 and not node.keywords:
            return convert(_eval(node.args[0]), _unit_name(node.args[1]), _unit_name(node.args[2]))
        if name not in _FUNCTIONS or node.keywords:
            known = ", ".join(sorted([*_FUNCTIONS, *_OVER_VALUES, "convert"]))
            raise ValueError(f"unknown function {name}; known: {known}")
        args = [_eval(a) for a in node.args]
        if name == "factorial" and args and args[0] > MAX_FACTORIAL:
            raise ValueError(f"factorial of more than {MAX_FACTORIAL}")
        return _FUNCTIONS[name](*[float(a) if isinstance(a, Fraction) else a for a in args])
    raise ValueError(f"'{ast.unparse(node)}' is not allowed")


def _over_values(name: str, args: list[ast.expr]) -> int | float | Fraction:
    """A statistic of the values given as arguments, or as one list or tuple."""
    if len(args) == 1 and isinstance(args[0], (ast.List, ast.Tuple)):
        args = list(args[0].elts)
    values = [_eval(a) for a in args]
    if len(values) < (2 if name in ("stdev", "variance") else 1):
        raise ValueError(f"{name} needs more values")
    return _OVER_VALUES[name](values)


def _unit_name(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):  # convert(212, F, C): a unit written without quotes
        return node.id
    raise ValueError(f"'{ast.unparse(node)}' is not a unit name")


def _unit(name: str) -> tuple[str, float]:
    key = " ".join(name.lower().replace("degrees", "").split())
    for candidate in (key, key.removesuffix("s"), key.removesuffix("es")):
        if candidate in _UNITS:
            return _UNITS[candidate]
    raise ValueError(f"unknown unit '{name}'")


def convert(value: float | Fraction, source: str, target: str) -> float:
    """`value` in unit `source` expressed in unit `target` ("mi" to "km", "F" to "C")."""
    (kind, size), (to_kind, to_size) = _unit(source), _unit(target)
    if kind != to_kind:
        raise ValueError(f"cannot convert {kind} ({source}) to {to_kind} ({target})")
    value = float(value)
    if kind != "temperature":
        return value * size / to_size
    kelvin = {"c": value + 273.15, "f": (value - 32) * 5 / 9 + 273.15, "k": value}
    k = kelvin[_temperature(source)]
    return {"c": k - 273.15, "f": (k - 273.15) * 9 / 5 + 32, "k": k}[_temperature(target)]


def _temperature(name: str) -> str:
    key = name.lower().replace("degrees", "").replace("deg", "").replace("°", "").strip()
    return key[0]
