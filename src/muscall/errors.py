"""Errors a user can cause: each carries one message naming the file or key at fault."""


class MuscallError(Exception):
    """A problem with the user's data, paths or config; printed without a traceback."""


class AudioError(MuscallError):
    """An audio file that cannot be used (missing, undecodable, empty, silent, non-finite)."""


class DatasetError(MuscallError):
    """A dataset file that cannot be used (missing, malformed JSON, wrong fields)."""


class AudioProblem(AudioError):
    """An unusable audio file, with the kind of problem (a key of muscall.data.bad_items.KINDS)."""

    def __init__(self, message: str, kind: str = "undecodable"):
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):
        return type(self), (str(self), self.kind)
