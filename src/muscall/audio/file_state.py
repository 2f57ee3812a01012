"""An audio file's state on disk: there, readable, a regular file, unchanged since probed."""

from __future__ import annotations

import os
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING

from muscall.errors import AudioProblem

if TYPE_CHECKING:
    from muscall.audio.reading import AudioSource


def stat_audio(path: Path) -> os.stat_result:
    """The file's stat; raises AudioProblem when it is missing, unreachable or not a file."""
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise AudioProblem(f"{path}: audio file not found", "missing") from error
    except OSError as error:
        raise os_problem(path, error) from error
    if not S_ISREG(stat.st_mode):
        raise AudioProblem(f"{path}: not a regular file (a folder or a device?)", "missing")
    return stat


def os_problem(path: Path, error: OSError) -> AudioProblem:
    """An OSError met reading `path`, as one message of the right kind."""
    if isinstance(error, PermissionError):
        return AudioProblem(f"{path}: permission denied: the file may not be read", "unreadable")
    if isinstance(error, FileNotFoundError):
        return AudioProblem(f"{path}: audio file not found (removed while in use?)", "missing")
    return AudioProblem(f"{path}: cannot be read ({error.strerror or error})", "unreadable")


def check_unchanged(source: AudioSource) -> None:
    """Raise when the file is no longer the one probed (another size or modification time)."""
    if source.size < 0:
        return
    now = stat_audio(source.path)
    if (now.st_size, now.st_mtime_ns) != (source.size, source.mtime_ns):
        raise AudioProblem(
            f"{source.path}: changed while being read ({source.size} bytes when opened, "
            f"{now.st_size} now); was it being written? Read it again once it is complete",
            "changed",
        )
