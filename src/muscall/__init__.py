"""muscall: contrastive audio-language learning for music.

    import muscall
    model = muscall.load("path/to/best.ckpt")   # or an exported model folder
"""

__version__ = "0.1.0"
__all__ = ["load", "MusCALLModel"]


def __getattr__(name: str):
    # Lazy, so `import muscall` stays cheap for tools that only need a submodule.
    if name in __all__:
        from muscall import api

        return getattr(api, name)
    raise AttributeError(f"module 'muscall' has no attribute {name!r}")
