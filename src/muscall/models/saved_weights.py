"""Whether a network being built will receive its weights from a saved state dict.

A pretrained tower reads its packaged weights when it is built for training; rebuilt from a
checkpoint or an exported model, the saved weights replace them anyway, so it skips the read
and loading needs no weights package (muscall.checkpoint.build_net sets this).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_FROM_SAVED_STATE = contextvars.ContextVar("muscall_weights_from_saved_state", default=False)


@contextlib.contextmanager
def weights_from_saved_state() -> Iterator[None]:
    """Inside: networks are rebuilt to receive a saved state dict; packaged weights are skipped."""
    token = _FROM_SAVED_STATE.set(True)
    try:
        yield
    finally:
        _FROM_SAVED_STATE.reset(token)


def packaged_weights_wanted() -> bool:
    return not _FROM_SAVED_STATE.get()
