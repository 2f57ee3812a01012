"""Checkpoints written whole or not at all: a kill during a save keeps the previous file."""

from __future__ import annotations

from typing import Any

from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from muscall.atomic import atomic_path


class AtomicCheckpointIO(TorchCheckpointIO):
    """TorchCheckpointIO that writes beside the target, fsyncs, then renames over it.

    Lightning's own save goes through an fsspec transaction, which renames but never
    fsyncs, and names no temporary file we could recognise.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path, storage_options: Any | None = None
    ) -> None:
        with atomic_path(path) as temporary:
            super().save_checkpoint(checkpoint, temporary, storage_options)
