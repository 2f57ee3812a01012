"""Files made by real encoders read as a player reads them: every format, seeks, the length rule."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from muscall.audio import source as audio_source
from muscall.audio.formats import audio_suffixes
from muscall.audio.reading import check_whole_file, probe, read_clip, read_windows
from muscall.audio.source import Decoder
from muscall.errors import AudioError

from .encoded import GOOD, LONG, SECONDS, Encoded

# Largest difference between a seeked span and the same span of a full decode; the lossy
# decoders' float rounding differs by ~1e-4 at most after a seek.
SEEK_TOLERANCE = 1e-3


@pytest.fixture(scope="session")
def encoded(tmp_path_factory) -> Encoded:
    return Encoded(tmp_path_factory.mktemp("encoded"))


def _full(path):
    source = probe(path, 16000)
    with Decoder(source) as decoder:
        return source, decoder.read(0, None)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_format_decodes_whole_to_its_real_length(encoded, name):
    path = encoded.path(name)
    recipe = GOOD[name]
    source = check_whole_file(path, 16000)
    seconds = source.num_frames / source.sample_rate
    # Lossy codecs may keep up to a frame of padding (AAC: 1024 samples, Opus: 20 ms).
    assert abs(seconds - recipe.seconds) < 0.06, seconds
    assert source.sample_rate == recipe.rate and source.exact
    assert probe(path, 16000).num_frames == source.num_frames  # learned for later probes


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_seeked_crop_is_the_same_span_of_a_full_decode(encoded, name):
    path = encoded.path(name)
    source, full = _full(path)
    rate = source.sample_rate
    for start in (round(0.05 * rate), full.shape[0] // 3 + 7, full.shape[0] - rate // 3):
        with Decoder(probe(path, 16000)) as decoder:
            span = decoder.read(start, rate // 4)
        reference = full[start : start + rate // 4]
        assert span.shape == reference.shape, (start, span.shape)
        assert np.max(np.abs(span - reference)) < SEEK_TOLERANCE, start


@pytest.mark.parametrize("name", ["vbr.mp3", "aac.m4a", "opus.webm", "hires_96k.flac"])
def test_read_clip_resamples_a_crop_to_the_model_rate(encoded, name):
    clip = read_clip(encoded.path(name), 16000, 2.0, "centre")
    assert clip.shape == (32000,) and clip.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(clip * np.hanning(len(clip))))
    assert abs(np.argmax(spectrum) * 16000 / len(clip) - 661) < 25  # the steady partial


def test_whole_track_windows_end_at_the_decoded_end(encoded, monkeypatch):
    monkeypatch.setattr(audio_source, "_LEARNED", {})
    path = encoded.path("vbr_noxing.mp3")  # its header's length is an estimate from bitrate
    header = probe(path, 16000)
    assert not header.exact
    _, full = _full(path)
    assert full.shape[0] > header.num_frames  # the estimate was short: the tail is read too
    windows = read_windows(path, header.sample_rate, 1.0)
    last = full[-header.sample_rate :]
    np.testing.assert_array_equal(windows[-1], last)
    assert len(windows) == int(np.ceil(full.shape[0] / header.sample_rate))


def test_a_header_promising_more_than_the_stream_holds_is_a_good_file(encoded, monkeypatch):
    monkeypatch.setattr(audio_source, "_LEARNED", {})
    path = encoded.path("opus.opus")  # its last granule promises a little more than decodes
    header = probe(path, 16000)
    _, full = _full(path)
    assert 0 < header.num_frames - full.shape[0] < header.sample_rate
    # A crop as long as the header promises runs into the stream's end: read and padded.
    seconds = header.num_frames / header.sample_rate
    whole = read_clip(path, 16000, seconds, "centre")
    assert whole.shape == (round(seconds * 16000),) and not whole[-40:].any()
    assert probe(path, 16000).num_frames == full.shape[0]


@pytest.mark.parametrize("name", ["vbr.mp3", "cbr.mp3", "hires_96k.flac", "opus.webm", "aac.m4a"])
def test_a_file_cut_in_half_is_a_named_bad_item(encoded, name):
    path = encoded.cut_in_half(name)
    with pytest.raises(AudioError, match="truncated|cannot decode|decoder error") as info:
        check_whole_file(path, 16000)
    assert str(path) in str(info.value)
    assert info.value.kind == "undecodable"


def test_a_cut_cbr_mp3_without_a_header_reads_as_the_shorter_file(encoded):
    # Nothing in the file says how long it was: a player plays the half that is there.
    source = check_whole_file(encoded.cut_in_half("cbr_noxing.mp3"), 16000)
    assert abs(source.num_frames / source.sample_rate - SECONDS / 2) < 0.2


def test_zero_bytes_and_text_named_mp3_are_named(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "notes.mp3").write_text("a shopping list, not audio\n" * 20)
    with pytest.raises(AudioError, match="empty") as info:
        read_clip(tmp_path / "empty.mp3", 16000, 1.0)
    assert info.value.kind == "empty"
    with pytest.raises(AudioError, match="notes.mp3: cannot decode") as info:
        read_clip(tmp_path / "notes.mp3", 16000, 1.0)
    assert info.value.kind == "undecodable"


def test_the_content_decides_not_the_name(encoded, tmp_path):
    mp3 = encoded.path("vbr.mp3")
    disguised = tmp_path / "really_mp3.flac"
    disguised.write_bytes(mp3.read_bytes())
    flac = tmp_path / "really_flac.mp3"
    flac.write_bytes(encoded.path("hires_96k.flac").read_bytes())
    np.testing.assert_array_equal(read_clip(disguised, 16000, 1.0), read_clip(mp3, 16000, 1.0))
    assert probe(flac, 16000).sample_rate == 96000


def test_a_wav_holding_a_codec_libsndfile_lacks_is_read_by_ffmpeg(encoded, tmp_path):
    src = encoded.source(44100, 1, 1.0)
    wav = tmp_path / "adpcm.wav"
    encoded_wav = encoded.folder / "adpcm_ms.wav"
    if not encoded_wav.exists():
        import subprocess

        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-i",
                str(src),
                "-c:a",
                "adpcm_ima_wav",
                str(encoded_wav),
            ],
            check=True,
        )
    wav.write_bytes(encoded_wav.read_bytes())
    assert read_clip(wav, 16000, 1.0).any()


def test_every_fixture_suffix_is_discovered():
    suffixes = {name[name.rindex(".") :] for name in [*GOOD, *LONG]}
    assert suffixes <= audio_suffixes()
    assert {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".webm", ".npy"} <= audio_suffixes()


def test_soundfile_and_ffmpeg_agree_on_a_flac(encoded):
    path = encoded.path("hires_96k.flac")
    with Decoder(probe(path, 16000)) as decoder:
        ours = decoder.read(0, None)
    reference, _ = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_allclose(ours, reference.mean(axis=1), atol=1e-6)


@pytest.mark.slow
def test_a_30_minute_m4a_is_read_crop_by_crop_and_window_by_window(encoded):
    path = encoded.path("long_30min.m4a")
    header = probe(path, 16000)
    assert abs(header.num_frames / header.sample_rate - 1800) < 1
    rng = np.random.default_rng(0)
    crops = [read_clip(path, 16000, 10.0, "random", rng) for _ in range(3)]
    assert all(crop.shape == (160000,) and crop.any() for crop in crops)
    windows = read_windows(path, 16000, 30.0)
    # 60 windows side by side, and one more ending at the end if AAC's padding outlasts them.
    assert windows.shape[1] == 480000 and len(windows) in (60, 61)
    assert windows[-1].any()
