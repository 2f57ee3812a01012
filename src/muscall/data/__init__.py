"""Data: audio reading, caption splits, labelled sets, datasets and the DataModule.

The names below load on first use, so `captions` (the split layout) and `json_io` stay light:
the built-in dataset's render workers use them and must not import torch or Lightning.
"""

from importlib import import_module

_HOMES = {
    "AudioCaptionDataModule": "muscall.data.datamodule",
    "CaptionedAudio": "muscall.data.captions",
    "LabelledSet": "muscall.data.labelled",
    "read_clip": "muscall.audio.reading",
    "read_labelled_set": "muscall.data.labelled",
    "read_split": "muscall.data.captions",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
