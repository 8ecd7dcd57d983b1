"""How a mistake in brand.yml is told: the file, the exact key path and what is wrong.

Checks raise :class:`_Problem` with the key path they look at; the loader turns it into
:class:`BrandError`, which also names the file.
"""

from __future__ import annotations

import json


class BrandError(ValueError):
    """A problem in the brand file, reported with the file and the key path.

    The message always reads ``<file>: <where>: <problem>``, for example
    ``brand.yml: returns.window_days: missing``. ``<where>`` is the key path, or
    ``line N, column M`` for YAML syntax errors, and is left out for problems
    with the file as a whole (unreadable, empty).

    Attributes:
        file: The file name as it was given to :func:`load_brand`.
        key_path: The dotted key path that is wrong, or ``None``.
        problem: What is wrong, in plain words.
        line: 1-based line number for YAML syntax errors, else ``None``.
    """

    def __init__(
        self,
        file: str,
        key_path: str | None,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        """Build the error and its message.

        Args:
            file: The file name to show.
            key_path: The key path that is wrong, if known.
            problem: What is wrong.
            line: 1-based line of a syntax error, if any.
            column: 1-based column of a syntax error, if any.
        """
        where = key_path
        if where is None and line is not None:
            where = f"line {line}" if column is None else f"line {line}, column {column}"
        super().__init__(": ".join(part for part in (file, where, problem) if part))
        self.file = file
        self.key_path = key_path
        self.problem = problem
        self.line = line


class _Problem(Exception):
    """A validation failure at a key path; turned into :class:`BrandError`."""

    def __init__(self, key_path: str, problem: str) -> None:
        """Remember where and what.

        Args:
            key_path: The key path that is wrong.
            problem: What is wrong.
        """
        super().__init__(f"{key_path}: {problem}")
        self.key_path = key_path
        self.problem = problem


def _key(path: str, name: object) -> str:
    """Extend a key path with a mapping key."""
    return f"{path}.{name}" if path else str(name)


def _item(path: str, index: int) -> str:
    """Extend a key path with a list index."""
    return f"{path}[{index}]"


def _show(value: object) -> str:
    """Describe a YAML value for an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
