"""The error hierarchy: every error the app raises on purpose, and who sees it."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every deliberate error. The CLI prints its message (no traceback) and exits 1."""


class ConfigError(AssistantError):
    """The configuration file is wrong. Shown to the user with the path and the valid choices."""


class ModelUnavailable(AssistantError):
    """A model cannot be used: not installed, corrupt, or its engine package is missing.

    The message says which model, where the app looked and the command that fixes it.
    """

    def __init__(self, model: str, problem: str, looked_in: str = "", fix: str = "") -> None:
        self.model = model
        parts = [f"Model '{model}' is unavailable: {problem}."]
        if looked_in:
            parts.append(f"Looked in {looked_in}.")
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class UnknownModel(AssistantError, KeyError):
    """A model name the catalog does not know; the message lists the names it does know.
    Still a KeyError, for callers that look a name up and handle its absence themselves."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"There is no model called '{name}'. Known models: {', '.join(known)}.")

    def __str__(self) -> str:
        return str(self.args[0])


class ToolError(AssistantError):
    """A tool failed. Goes back to the model as the tool's result; never raised through the loop."""


class UserVisibleError(AssistantError):
    """Bad input or a failed action the user should read: a corrupt file, no microphone, silence."""
