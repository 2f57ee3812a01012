import numpy as np
import pytest
import soundfile as sf

from muscall.audio.reading import check_audible, downmix, read_clip
from muscall.errors import AudioError


def _tone(seconds, rate, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_npy_mono_and_channels_first_stereo(tmp_path):
    mono = _tone(2.0, 16000)
    np.save(tmp_path / "mono.npy", mono)
    np.save(tmp_path / "stereo.npy", np.stack([mono, -mono * 0.5]))
    a = read_clip(tmp_path / "mono.npy", 16000, 1.0, "centre")
    b = read_clip(tmp_path / "stereo.npy", 16000, 1.0, "centre")
    assert a.shape == b.shape == (16000,)
    assert a.dtype == np.float32
    # The centre crop starts half a second in.
    np.testing.assert_allclose(a, mono[8000:24000])
    np.testing.assert_allclose(b, 0.25 * mono[8000:24000], atol=1e-6)


def test_short_clip_is_zero_padded_at_the_end(tmp_path):
    np.save(tmp_path / "short.npy", _tone(0.5, 16000))
    wave = read_clip(tmp_path / "short.npy", 16000, 2.0, "random", np.random.default_rng(0))
    assert wave.shape == (32000,)
    assert np.any(wave[:8000]) and not np.any(wave[8000:])


def test_wav_at_another_rate_is_resampled(tmp_path):
    sf.write(tmp_path / "tone.wav", np.stack([_tone(1.0, 44100, 1000.0)] * 2, axis=1), 44100)
    wave = read_clip(tmp_path / "tone.wav", 16000, 1.0, "centre")
    assert wave.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * 16000 / len(wave) - 1000.0) < 5.0


def test_random_crops_vary_and_are_seeded(tmp_path):
    np.save(tmp_path / "ramp.npy", np.linspace(-1, 1, 48000, dtype=np.float32))
    crops = [
        read_clip(tmp_path / "ramp.npy", 16000, 0.5, "random", np.random.default_rng(s))[0]
        for s in range(5)
    ]
    assert len(set(crops)) > 1
    again = read_clip(tmp_path / "ramp.npy", 16000, 0.5, "random", np.random.default_rng(3))[0]
    assert again == crops[3]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "not found"),
        (lambda p: p.write_bytes(b"not audio at all"), "cannot decode"),
        (lambda p: np.save(p, np.zeros((0,), np.float32)), "empty"),
        (lambda p: np.save(p, np.full(100, np.nan, np.float32)), "NaN"),
        (lambda p: np.save(p, np.zeros((100, 100, 2), np.float32)), "shape"),
    ],
)
def test_bad_files_raise_one_clear_error_naming_the_file(tmp_path, make, message):
    suffix = ".wav" if "audio" in message or message == "cannot decode" else ".npy"
    path = tmp_path / f"bad{suffix}"
    make(path)
    with pytest.raises(AudioError, match=message) as info:
        read_clip(path, 16000, 1.0, "centre")
    assert str(path) in str(info.value)


def test_silence_is_rejected():
    with pytest.raises(AudioError, match="silent"):
        check_audible(np.zeros(10, np.float32), "x.npy")
    check_audible(np.ones(10, np.float32), "x.npy")


@pytest.mark.parametrize("channels", [1, 2, 3, 6])
def test_downmix_is_the_mean_over_channels(channels):
    frames = np.random.default_rng(channels).normal(size=(1000, channels)).astype(np.float32)
    mono = downmix(frames)
    assert mono.dtype == np.float32 and mono.shape == (1000,)
    np.testing.assert_allclose(mono, frames.mean(axis=1), rtol=1e-6, atol=1e-7)
