"""The calculator tool's engine: safe arithmetic on a parsed AST (no eval), exact for integers."""

from __future__ import annotations

import ast
import math
import operator
import re
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
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
MAX_EXPONENT = 10_000  # 2**10000 is fine; 9**9**9 would eat the machine
MAX_FACTORIAL = 5_000


# As people write them: "15% of 80", "15 percent of 80", "20%" (a % before a number is modulo).
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s*of\b", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b)(?!\s*[\d(])", re.IGNORECASE)
_TIMES = re.compile(r"(?<=\d)\s*[x×]\s*(?=\d)")


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
        if name not in _FUNCTIONS or node.keywords:
            raise ValueError(f"unknown function {name}; known: {', '.join(sorted(_FUNCTIONS))}")
        args = [_eval(a) for a in node.args]
        if name == "factorial" and args and args[0] > MAX_FACTORIAL:
            raise ValueError(f"factorial of more than {MAX_FACTORIAL}")
        return _FUNCTIONS[name](*[float(a) if isinstance(a, Fraction) else a for a in args])
    raise ValueError(f"'{ast.unparse(node)}' is not allowed")
