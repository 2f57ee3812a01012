"""JSON files: read with errors that point at the line, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from muscall.atomic import write_text
from muscall.errors import DatasetError


def read_json(path: Path, what: str) -> Any:
    """Parse `path`; a missing, unreadable or malformed file raises one message naming it.

    Only JSON is parsed: nothing in the file is evaluated, and no pickle is ever loaded.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: {what} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except PermissionError as error:
        raise DatasetError(f"{path}: {what} may not be read (permission denied)") from error
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"{path}: {what} is not UTF-8 text (byte {error.start}); is it JSON?"
        ) from error
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error


def write_json(path: Path, data: Any) -> Path:
    """Write JSON whole or not at all (muscall.atomic), so a reader never sees half a file."""
    return write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
