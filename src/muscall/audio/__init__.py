"""Audio files: probing, decoding, crops and windows, and the probed-file record.

The lowest layer above errors and atomic writes: it never imports data, models or tasks.
"""
