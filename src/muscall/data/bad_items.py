"""Unusable dataset items: what kind of problem each is, one message each, and the run's list.

Light (no torch): the caption and labelled-set readers report here as well as the datasets.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from muscall.errors import MuscallError

log = logging.getLogger(__name__)

# Every kind of problem, in the order a report lists them.
KINDS = {
    "bad file": "split or set file that cannot be read (malformed JSON/CSV, not UTF-8)",
    "bad entry": "entry that is not an object, or lacks audio_id, caption or audio_path",
    "bad caption": "caption that is empty, whitespace, too long or not a string",
    "duplicate id": "audio_id already used with another audio_path",
    "outside": "audio_path absolute, leading out of the dataset folder, or a symlink out",
    "missing": "audio file not found",
    "unreadable": "audio file that may not be read (permission denied, I/O error)",
    "empty": "audio file with no samples",
    "undecodable": "corrupt, truncated or not audio",
    "bad array": ".npy of the wrong dtype or shape, or holding Python objects",
    "sample rate": "sample rate no audio has",
    "non-finite": "audio holding NaN or infinite samples",
    "silent": "audio whose every sample is zero",
    "changed": "file that changed while being read",
}
ON_BAD_ITEM = ("skip", "fail")


class BadItemError(MuscallError):
    """A bad item under `data.on_bad_item=fail`: one message naming the file, entry and reason."""

    def __init__(self, message: str):
        # torch's DataLoader re-raises a worker's exception as `type(error)(text)`, the text
        # holding the worker's traceback; keep only the message, which already says it all.
        marker = f"{type(self).__name__}: "
        if message.startswith("Caught ") and marker in message:
            message = message.rsplit(marker, 1)[1].strip()
        super().__init__(message)


def kind_of(error: BaseException) -> str:
    """The kind an error was raised as (`AudioProblem.kind`); an untyped one is undecodable."""
    if isinstance(error, FileNotFoundError):
        return "missing"
    if isinstance(error, OSError):
        return "unreadable"
    return getattr(error, "kind", "undecodable")


def describe(record: dict) -> str:
    """One line naming the file (and entry), the audio_id and where it was named, and why."""
    where = (
        record["file"]
        if record.get("entry") is None
        else f"{record['file']} entry {record['entry']}"
    )
    context = []
    if record.get("audio_id") is not None:
        context.append(f"audio_id {record['audio_id']!r}")
    if record.get("source") and record["source"] != record["file"]:
        context.append(f"named in {record['source']}")
    suffix = f" ({', '.join(context)})" if context else ""
    return f"{where}{suffix}: {record['reason']}"


class BadItemLog:
    """The items a run skipped: logged, kept, and appended to `path` (one JSON line each).

    Safe from several DataLoader workers and DDP ranks: each appends whole lines, and `read`
    drops repeats.
    With `fail`, the first bad item raises `BadItemError` instead (`data.on_bad_item=fail`).
    """

    def __init__(
        self, path: str | Path | None = None, fail: bool = False, level: int = logging.WARNING
    ):
        self.path = Path(path) if path else None
        self.fail = fail
        self.level = level  # a report that lists them all itself logs each at DEBUG
        self.records: list[dict] = []
        self._seen: set[tuple] = set()

    def report(
        self,
        file: Path | str,
        error: BaseException | str,
        *,
        kind: str | None = None,
        entry: int | None = None,
        audio_id: str | None = None,
        source: Path | str | None = None,
    ) -> None:
        """Record one bad item; `error` is the reason (an error's text may start with `file: `)."""
        reason = str(error).removeprefix(f"{file}: ")
        kind = kind or (kind_of(error) if isinstance(error, BaseException) else "undecodable")
        record = {"file": str(file), "kind": kind, "reason": reason}
        context = {"entry": entry, "audio_id": audio_id, "source": source and str(source)}
        record.update({key: value for key, value in context.items() if value is not None})
        record["error"] = describe(record)
        key = (record["file"], entry)
        if key in self._seen:
            return
        self._seen.add(key)
        self.records.append(record)
        self._append(record)
        if self.fail:
            raise BadItemError(f"{record['error']} (data.on_bad_item=fail)")
        log.log(self.level, "skipped %s", record["error"])

    def read(self) -> list[dict]:
        """Every item reported so far by any process, each once."""
        if self.path is None or not self.path.is_file():
            return list(self.records)
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return list({(d["file"], d.get("entry")): d for d in map(json.loads, lines)}.values())

    def _append(self, record: dict) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # One write() on an O_APPEND descriptor, so lines from DataLoader workers and DDP ranks
        # never interleave (a buffered handle may split a long line into several writes).
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
