"""The model: mel frontends, audio towers (ResNet, musicnn), text encoders, tokenizers, dual encoder."""

from muscall.models.audio_musicnn import MusicnnAudioEncoder
from muscall.models.audio_resnet import ModifiedResNet
from muscall.models.dual_encoder import DualEncoder
from muscall.models.frontend import LogMel
from muscall.models.musicnn_frontend import MusicnnMel
from muscall.models.tag_bridge import TagProbabilities, TagQueryWeights
from muscall.models.text_minilm import MiniLMTextEncoder
from muscall.models.text_transformer import TextTransformer
from muscall.models.tokenizers import ClipBPETokenizer, MiniLMTokenizer

__all__ = [
    "ClipBPETokenizer",
    "DualEncoder",
    "LogMel",
    "MiniLMTextEncoder",
    "MiniLMTokenizer",
    "ModifiedResNet",
    "MusicnnAudioEncoder",
    "MusicnnMel",
    "TagProbabilities",
    "TagQueryWeights",
    "TextTransformer",
]
