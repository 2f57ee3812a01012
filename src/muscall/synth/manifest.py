"""The manifest that marks a finished dataset, and the checks that keep user data safe.

The manifest is written last and a marker file first, so an interrupted build is never taken
for a finished one; only files this generator writes are ever removed.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from muscall.data.captions import SPLITS, split_path
from muscall.errors import DatasetError
from muscall.synth.layout import AUDIO_DIR, ZEROSHOT_DIR, zeroshot_files

# Bump whenever the same parameters would give different audio or captions, so datasets
# rendered by an older generator are re-rendered instead of silently reused.
FORMAT_VERSION = 1
GENERATOR = "muscall.synth"
MANIFEST = "manifest.json"
MARKER = ".synth_building"


@functools.cache
def source_hash() -> str:
    """A hash of this package's code: a bump of FORMAT_VERSION that nobody can forget."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def manifest_path(root: Path) -> Path:
    return root / MANIFEST


def read_manifest(root: Path) -> dict | None:
    """The manifest's content, or None if there is none or it is not ours."""
    try:
        data = json.loads(manifest_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("generator") == GENERATOR else None


def matches(root: Path, params: dict) -> bool:
    """Whether `root` holds a finished dataset of this format with exactly these parameters."""
    manifest = read_manifest(root)
    if manifest is None or (root / MARKER).exists():
        return False
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("params") != params:
        return False
    if manifest.get("source_hash") != source_hash():
        return False
    return _files_present(root, params["name"])


def _outdated_but_ours(root: Path, params: dict) -> bool:
    """Our own build with these parameters, rendered by other code: safe to re-render."""
    manifest = read_manifest(root)
    return (
        manifest is not None
        and manifest.get("params") == params
        and manifest.get("source_hash") != source_hash()
    )


def _files_present(root: Path, name: str) -> bool:
    if not all(path.is_file() for path in zeroshot_files(root)):
        return False
    for split in SPLITS:
        try:
            entries = json.loads(split_path(root, name, split).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not all((root / entry["audio_path"]).is_file() for entry in entries):
            return False
    return True


def prepare_folder(root: Path, name: str, params: dict, overwrite: bool) -> None:
    """Make `root` ready for a build: empty, our own unfinished build, or overwrite asked."""
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root}: exists and is not a folder; choose another dataset root")
    ours = (root / MARKER).exists() or _outdated_but_ours(root, params)
    if root.is_dir() and any(root.iterdir()) and not (overwrite or ours):
        raise DatasetError(_refusal(root, params))
    remove_outputs(root, name)
    root.mkdir(parents=True, exist_ok=True)


def _refusal(root: Path, params: dict) -> str:
    manifest = read_manifest(root)
    if manifest is None:
        what = "is not empty and holds no built-in dataset"
    else:
        old = manifest.get("params", {})
        changed = [f"{k}={old.get(k)!r}->{v!r}" for k, v in params.items() if old.get(k) != v]
        if manifest.get("format_version") != FORMAT_VERSION:
            changed.append(f"format_version={manifest.get('format_version')}->{FORMAT_VERSION}")
        what = (
            f"holds a built-in dataset made differently ({', '.join(changed) or 'files missing'})"
        )
    return (
        f"{root}: {what}. Refusing to write into it: pass overwrite=True "
        f"(task=generate task.overwrite=true) to replace the generator's files there, "
        f"or choose another folder (data.generate.root)."
    )


def remove_outputs(root: Path, name: str) -> None:
    """Delete what a build writes (and nothing else), manifest first."""
    for path in (manifest_path(root), *zeroshot_files(root)):
        path.unlink(missing_ok=True)
    for split in SPLITS:
        split_path(root, name, split).unlink(missing_ok=True)
    for folder in (root / AUDIO_DIR, root / ZEROSHOT_DIR):
        if folder.is_dir():
            for path in folder.glob("synth_*.npy*"):
                path.unlink()
            for path in folder.glob("*.partial"):
                path.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
    (root / MARKER).unlink(missing_ok=True)
