"""Model-written code in newer Python than the sandbox's: an f-string that reuses its own quote
inside its braces (`f'{row['name']}'`) is valid from Python 3.12 (PEP 701) but a SyntaxError
in 3.11, and a small model writes it often; told the error, it wrote the same line again.
Such code is given the other quote inside the braces, which means the same in every version.
Code that already compiles, or that still does not, is run as written."""

from __future__ import annotations

import sys

_QUOTES = "'\""
_PREFIX = set("rRbBuUfF")


def newer_fstrings(code: str) -> str:
    """`code` with the quotes inside its f-strings' braces swapped where that (and only that)
    makes it compile on this Python; else `code` unchanged."""
    if sys.version_info >= (3, 12) or _compiles(code):
        return code
    mended = _requoted(code)
    return mended if mended != code and _compiles(mended) else code


def _compiles(code: str) -> bool:
    try:
        compile(code, "<python>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _requoted(code: str) -> str:
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == "#":
            end = code.find("\n", i)
            end = n if end < 0 else end
            out.append(code[i:end])
            i = end
        elif ch in _QUOTES:
            prefix = _prefix_before(code, i)
            if "f" in prefix.lower() and code[i : i + 3] != ch * 3:
                text, i = _fstring(code, i)
            else:
                text, i = _plain_string(code, i)
            out.append(text)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _prefix_before(code: str, at: int) -> str:
    """The string prefix ("f", "rf", "b", ...) written just before the quote at `at`."""
    start = at
    while start > 0 and code[start - 1] in _PREFIX and at - start < 2:
        start -= 1
    if start > 0 and (code[start - 1].isalnum() or code[start - 1] == "_"):
        return ""  # the end of a name ("elif'...'" cannot be; "myf'..." is no prefix)
    return code[start:at]


def _plain_string(code: str, at: int) -> tuple[str, int]:
    """A string as written, from its opening quote at `at` to just after its close."""
    quote = code[at] * 3 if code[at : at + 3] == code[at] * 3 else code[at]
    i = at + len(quote)
    while i < len(code):
        if code[i] == "\\":
            i += 2
        elif code.startswith(quote, i):
            return code[at : i + len(quote)], i + len(quote)
        elif code[i] == "\n" and len(quote) == 1:
            break  # an unclosed one-line string: leave the rest to the compiler
        else:
            i += 1
    return code[at:i], i


def _fstring(code: str, at: int) -> tuple[str, int]:
    """A one-line f-string from `at`, a string in its braces delimited by the f-string's own
    quote given the other one (when its text holds neither)."""
    quote = code[at]
    other = "'" if quote == '"' else '"'
    out, depth, i = [quote], 0, at + 1
    while i < len(code):
        ch = code[i]
        if depth == 0:
            if ch == quote or ch == "\n":
                out.append(ch)
                return "".join(out), i + 1
            if ch == "\\":
                out.append(code[i : i + 2])
                i += 2
                continue
            if code.startswith("{{", i) or code.startswith("}}", i):
                out.append(code[i : i + 2])
                i += 2
                continue
            depth += ch == "{"
        elif ch in _QUOTES:
            end = code.find(ch, i + 1)
            if end < 0 or "\n" in code[i:end]:
                break
            inner = code[i + 1 : end]
            swap = ch == quote and other not in inner and "\\" not in inner
            out.append(f"{other}{inner}{other}" if swap else code[i : end + 1])
            i = end + 1
            continue
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        out.append(ch)
        i += 1
    return "".join(out), i
