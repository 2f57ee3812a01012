"""muscall: contrastive audio-language learning for music.

`muscall.load(path)` gives a trained model (a checkpoint or an exported model folder); see
`muscall.api`.
"""

from muscall.environment import check_torch_pair

# Before anything imports torchaudio, whose library fails to link beside another torch release.
check_torch_pair()

__version__ = "0.1.0"
__all__ = ["load", "MusCALLModel"]


def __getattr__(name: str):
    # Lazy, so `import muscall` stays cheap for tools that only need a submodule.
    if name in __all__:
        from muscall import api

        return getattr(api, name)
    raise AttributeError(f"module 'muscall' has no attribute {name!r}")
