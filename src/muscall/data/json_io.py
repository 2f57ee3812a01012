"""Reading the JSON files users write, with errors that point at the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from muscall.errors import DatasetError


def read_json(path: Path, what: str) -> Any:
    """Parse `path`; a missing file or malformed JSON raises one message naming the file."""
    if not path.is_file():
        raise DatasetError(f"{path}: {what} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
