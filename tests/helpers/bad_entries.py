"""A tiny dataset whose train split also holds every kind of bad entry the readers refuse."""

from __future__ import annotations

import json
import os

import numpy as np
import soundfile as sf

from tests.helpers.datasets import write_tiny_dataset

RATE = 16000


def _tone(seconds: float = 1.5, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def _truncated(path, fraction: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


# {audio_id: (file in audio/, kind)}: audio files the readers must refuse.
BAD_AUDIO = {
    "truncated_flac": ("truncated.flac", "undecodable"),
    "truncated_ogg": ("truncated.ogg", "undecodable"),
    "corrupt_wav": ("corrupt.wav", "undecodable"),
    "corrupt_mp3": ("corrupt.mp3", "undecodable"),
    "missing": ("missing.npy", "missing"),
    "empty_file": ("empty.wav", "empty"),
    "no_samples": ("no_samples.npy", "empty"),
    "silent": ("silent.npy", "silent"),
    "nan": ("nan.npy", "non-finite"),
    "inf": ("inf.wav", "non-finite"),
    "int16": ("int16.npy", "bad array"),
    "objects": ("objects.npy", "bad array"),
    "channels_last": ("channels_last.npy", "bad array"),
    "low_rate": ("low_rate.wav", "sample rate"),
}
# (audio_id, caption, audio_path, kind, words of the reason): entries the split reader refuses.
BAD_ENTRIES = [
    ("empty_caption", "", "audio/clip000.npy", "bad caption", "empty caption"),
    ("space_caption", " \n\t", "audio/clip000.npy", "bad caption", "empty caption"),
    ("long_caption", "x" * 2001, "audio/clip000.npy", "bad caption", "2001 characters"),
    ("number_caption", 42, "audio/clip000.npy", "bad caption", "not a string but int"),
    ("absolute", "a file", "/etc/hostname", "outside", "is absolute"),
    ("dotdot", "a file", "../outside.npy", "outside", "leads out of"),
    ("symlink", "a file", "audio/link.npy", "outside", "is a symlink to"),
    ("clip000", "another take", "audio/clip001.npy", "duplicate id", "already names"),
    ("no_path", "a tone", None, "bad entry", "missing key 'audio_path'"),
]
# {audio_id: {"kind", "file", "reason"}}: how each must be reported; `file` is the end of
# the path the message must name.
EXPECTED = {
    **{i: {"kind": kind, "file": f"audio/{name}"} for i, (name, kind) in BAD_AUDIO.items()},
    **{
        i: {"kind": kind, "file": "tiny_train.json", "reason": reason}
        for i, _, _, kind, reason in BAD_ENTRIES
    },
}


def _write_audio(audio) -> None:
    sf.write(audio / "truncated.flac", _tone(), RATE)
    _truncated(audio / "truncated.flac")
    sf.write(audio / "truncated.ogg", _tone(), RATE)
    _truncated(audio / "truncated.ogg")
    (audio / "corrupt.wav").write_bytes(b"RIFF" + os.urandom(3000))
    (audio / "corrupt.mp3").write_bytes(b"\xff\xfb\x90\x00" + os.urandom(3000))
    (audio / "empty.wav").write_bytes(b"")
    np.save(audio / "no_samples.npy", np.zeros(0, np.float32))
    np.save(audio / "silent.npy", np.zeros(RATE, np.float32))
    # Mid-file (0.75 s of 1.5 s): inside every 1 s training crop, so training sees them too.
    nan = _tone()
    nan[RATE * 3 // 4] = np.nan
    np.save(audio / "nan.npy", nan)
    inf = _tone()
    inf[RATE * 3 // 4] = np.inf
    sf.write(audio / "inf.wav", inf, RATE, subtype="FLOAT")
    np.save(audio / "int16.npy", (_tone() * 32767).astype(np.int16))
    np.save(audio / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(audio / "channels_last.npy", np.stack([_tone(), _tone()], axis=1))
    sf.write(audio / "low_rate.wav", _tone(rate=1000), 1000)


def write_bad_dataset(root, counts=(8, 4, 4)):
    """The tiny dataset plus one bad train entry per kind (EXPECTED); a valid .npy lies outside
    it, named by `../outside.npy` and by the symlink `audio/link.npy`. Returns `root`."""
    write_tiny_dataset(root, counts=counts)
    outside = root.parent / "outside.npy"
    np.save(outside, _tone())  # valid audio: only the containment rule keeps it out
    (root / "audio" / "link.npy").symlink_to(outside)
    _write_audio(root / "audio")
    entries = [
        {"audio_id": i, "caption": "a bad file", "audio_path": f"audio/{name}"}
        for i, (name, _) in BAD_AUDIO.items()
    ]
    for audio_id, caption, path, *_ in BAD_ENTRIES:
        entry = {"audio_id": audio_id, "caption": caption, "audio_path": path}
        entries.append({k: v for k, v in entry.items() if v is not None})
    split = root / "tiny_train.json"
    split.write_text(json.dumps(json.loads(split.read_text()) + entries))
    return root


def assert_reported(records: list[dict], audio_ids=None) -> None:
    """Each bad entry of EXPECTED (or those of `audio_ids`) is reported as it should be:
    its kind, and a message naming the file, the audio_id and the reason."""
    expected = {i: EXPECTED[i] for i in audio_ids or EXPECTED}
    by_id = {r.get("audio_id"): r for r in records}
    assert set(expected) <= set(by_id), sorted(set(expected) - set(by_id))
    for audio_id, want in expected.items():
        record = by_id[audio_id]
        assert record["kind"] == want["kind"], record
        assert want["file"] in record["file"], record
        assert want["file"] in record["error"] and repr(audio_id) in record["error"], record
        assert want.get("reason", "") in record["error"], record
