"""Data: audio reading, caption splits, labelled sets, datasets and the DataModule."""

from muscall.data.audio_io import read_clip
from muscall.data.captions import CaptionedAudio, read_split
from muscall.data.datamodule import AudioCaptionDataModule
from muscall.data.labelled import LabelledSet, read_labelled_set

__all__ = [
    "AudioCaptionDataModule",
    "CaptionedAudio",
    "LabelledSet",
    "read_clip",
    "read_labelled_set",
    "read_split",
]
