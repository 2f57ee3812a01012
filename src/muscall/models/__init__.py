"""The model: mel frontends, audio towers (ResNet, musicnn, Hugging Face), text encoders,
tokenizers, dual encoder, Hugging Face CLAP, and the tag bridge."""

from muscall.models.audio_musicnn import MusicnnAudioEncoder
from muscall.models.audio_resnet import ModifiedResNet
from muscall.models.dual_encoder import DualEncoder
from muscall.models.frontend import LogMel
from muscall.models.hf_audio import HFAudioEncoder, HFFeatureExtractor
from muscall.models.hf_clap import HFClap
from muscall.models.hf_text import HFTextEncoder, HFTokenizer
from muscall.models.musicnn_frontend import MusicnnMel
from muscall.models.tag_bridge import TagProbabilities, TagQueryWeights
from muscall.models.text_minilm import MiniLMTextEncoder
from muscall.models.text_transformer import TextTransformer
from muscall.models.tokenizers import ClipBPETokenizer, MiniLMTokenizer

__all__ = [
    "ClipBPETokenizer",
    "DualEncoder",
    "HFAudioEncoder",
    "HFClap",
    "HFFeatureExtractor",
    "HFTextEncoder",
    "HFTokenizer",
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
