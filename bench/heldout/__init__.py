"""A held-out captioned music set for benchmarks: its own synthesis, sources and captions.

Nothing here is shared with `muscall.synth` (the built-in dataset's generator), so a recipe
tuned on the built-in data meets music it was never shaped on. `python -m bench.heldout`.
"""
