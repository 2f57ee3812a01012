"""Reading a dataset's published CSV index, with errors that name the file and column."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from muscall.errors import DatasetError


def read_csv_rows(path: Path, columns: Sequence[str], delimiter: str = ",") -> list[dict]:
    """Every row of `path` as a dict; refused when a required column is absent.

    Rows are numbered from 2 by the callers: row 1 is the header.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file, delimiter=delimiter)
            absent = [c for c in columns if c not in (reader.fieldnames or ())]
            if absent:
                raise DatasetError(
                    f"{path}: no column(s) {', '.join(absent)}; is it {path.name} as published?"
                )
            return list(reader)
    except (csv.Error, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: not a readable CSV ({error})") from error
