"""The README's Python example runs as written, on a real checkpoint and real files."""

from __future__ import annotations

import re

import numpy as np
import soundfile as sf

from muscall.config import PROJECT_ROOT


def _python_example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### From Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_python_example_runs(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    code = _python_example()
    ckpt = re.search(r'muscall\.load\("([^"]+)"\)', code).group(1)
    code = code.replace(ckpt, str(tiny_checkpoint))
    rate = 44100
    t = np.arange(3 * rate) / rate
    for name, freq in (("song.mp3", 220), ("album/track01.flac", 440)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        tone = 0.3 * np.sin(2 * np.pi * freq * t)
        sf.write(tmp_path / name, np.stack([tone, tone], 1), rate)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "MusCALLModel(" in printed and "'jazz':" in printed
