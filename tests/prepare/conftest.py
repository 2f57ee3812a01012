"""Shared pieces of the dataset-preparation tests: task=prepare on a download, and what it wrote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers.prepare import run_prepare  # noqa: F401 - this folder's tests import it here


def prepare_download(root: Path, dataset: str, write_download: Callable[[Path], Any]) -> dict:
    """`write_download(root/download)`, then task=prepare into root/data/<dataset>.

    The run folder is root/run. Returns root, source, data_dir, target, expected (what
    `write_download` returned), before (every file's time before the run) and report.
    """
    source, data_dir = root / "download", root / "data"
    expected = write_download(source)
    before = _file_times(root)
    report = run_prepare(root / "run", dataset, source, data_dir / dataset)
    return {"root": root, "source": source, "data_dir": data_dir, "target": data_dir / dataset,
            "expected": expected, "before": before, "report": report}  # fmt: skip


def check_nothing_written_outside_target(prepared: dict) -> None:
    """The download is untouched; only the target and the run folder gain files, none partial."""
    after = _file_times(prepared["root"])
    before, target = prepared["before"], str(prepared["target"])
    assert {k: v for k, v in after.items() if k in before} == before  # the download is untouched
    new = [p for p in after if p not in before]
    outside = [p for p in new if not p.startswith(target + "/")]
    assert all(p.startswith(str(prepared["root"] / "run")) for p in outside)  # the run folder
    assert not any(p.endswith(".partial") for p in new)


def _file_times(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}
