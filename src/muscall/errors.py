"""Errors a user can cause: each carries one message naming the file or key at fault."""


class MuscallError(Exception):
    """A problem with the user's data, paths or config; printed without a traceback."""


class AudioError(MuscallError):
    """An audio file that cannot be used (missing, undecodable, empty, silent, non-finite)."""


class DatasetError(MuscallError):
    """A dataset file that cannot be used (missing, malformed JSON, wrong fields)."""
