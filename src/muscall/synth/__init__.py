"""The built-in dataset: captioned music rendered offline through a General MIDI soundfont.

Ten genres with their grooves, bass lines, harmony, meters and instruments; every caption
word (genre, instruments, tempo, mood, dynamics, key) describes what was actually rendered.
"""

from muscall.synth.build import build_dataset, dataset_matches

__all__ = ["build_dataset", "dataset_matches"]
