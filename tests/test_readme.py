"""The Python example of the README (and of docs/using-a-model.md) runs as written, on a real
checkpoint and real files.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile as sf

from muscall.config import PROJECT_ROOT

MARKER = "<!-- example: api -->"
EXAMPLE = re.compile(re.escape(MARKER) + r"\s*```python\n(.*?)```", re.S)
PAGES = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "docs" / "using-a-model.md"]


def python_example(page: Path) -> str:
    """The code block right after the page's `<!-- example: api -->` marker."""
    found = EXAMPLE.search(page.read_text(encoding="utf-8"))
    assert found, f"{page.name}: no ```python block right after {MARKER}"
    return found.group(1)


def test_the_pages_show_the_same_example():
    assert python_example(PAGES[0]) == python_example(PAGES[1])


def test_the_python_example_runs(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    page = PAGES[0]  # the other page's copy is the same (above)
    code = python_example(page)
    ckpt = re.search(r'muscall\.load\("([^"]+)"\)', code).group(1)
    code = code.replace(ckpt, str(tiny_checkpoint))
    rate = 44100
    t = np.arange(3 * rate) / rate
    for name, freq in (("song.mp3", 220), ("album/track01.flac", 440)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        tone = 0.3 * np.sin(2 * np.pi * freq * t)
        sf.write(tmp_path / name, np.stack([tone, tone], 1), rate)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, page.name, "exec"), {})
    printed = capsys.readouterr().out
    assert "MusCALLModel(" in printed and "'jazz':" in printed
