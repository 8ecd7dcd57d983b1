"""Round-trip editing of the Rasa YAML files: comments, order, quotes and layout survive.

Each file is read with ruamel.yaml's round-trip loader and written back with the layout it
already had (how far its lists are indented is read from the file), ``null`` written as
``null``, long lines never folded, and characters outside the Basic Multilingual Plane
(emoji) written as themselves rather than as escapes.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_FIRST_LIST_ITEM = re.compile(r"^[A-Za-z_]+:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*( *)- ", re.M)
_ESCAPED_ASTRAL = re.compile(r"(?<!\\)\\U([0-9A-Fa-f]{8})")


def _list_offset(text: str) -> int:
    """How far the file indents a top-level key's list (0 when "- intent" starts the line)."""
    found = _FIRST_LIST_ITEM.search(text)
    return len(found.group(1)) if found else 2


def _yaml_for(text: str) -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    offset = _list_offset(text)
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar(
            "tag:yaml.org,2002:null", "null"))
    return yaml


def load(path: Path) -> Any:
    """The file's data, with everything needed to write it back as it was."""
    return _yaml_for(path.read_text(encoding="utf-8")).load(path.read_text(encoding="utf-8"))


def dumps(data: Any, like: str) -> str:
    """`data` as YAML laid out like the text `like` (the file it came from)."""
    buffer = io.StringIO()
    _yaml_for(like).dump(data, buffer)
    return _ESCAPED_ASTRAL.sub(lambda m: chr(int(m.group(1), 16)), buffer.getvalue())


def save(path: Path, data: Any, like: str | None = None) -> None:
    """Writes `data` to `path` (whole or not at all), laid out like the file was."""
    if like is None:
        like = path.read_text(encoding="utf-8") if path.exists() else ""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(dumps(data, like), encoding="utf-8")
    os.replace(partial, path)
