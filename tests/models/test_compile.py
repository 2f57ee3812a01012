"""model.compile: torch.compile of both towers, in place, so checkpoints keep their names."""

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from muscall.config import compose_config


def _module(compile: bool):
    cfg = compose_config(["model=tiny", f"model.compile={compile}", "augment=none"])
    torch.manual_seed(0)
    return instantiate(cfg.model, loss=instantiate(cfg.loss.criterion))


def test_compile_is_off_by_default_and_on_keeps_parameter_names():
    assert compose_config(["model=muscall"]).model.compile is False
    eager, compiled = _module(False), _module(True)
    eager.configure_model(), compiled.configure_model()
    assert eager.net.audio_encoder._compiled_call_impl is None
    # nn.Module.compile compiles lazily, at the first call: configure_model itself is cheap.
    assert compiled.net.audio_encoder._compiled_call_impl is not None
    assert compiled.net.text_encoder._compiled_call_impl is not None
    assert list(compiled.state_dict()) == list(eager.state_dict())


@pytest.mark.slow  # inductor compiles both towers: ~65 s on 2 CPU cores with a cold cache
def test_compiled_towers_train_like_eager_ones():
    modules = [_module(False), _module(True)]
    wave = torch.randn(3, 16000)
    losses = []
    for module in modules:
        module.configure_model()
        net = module.net.train()
        tokens = net.tokenize(["a calm piano", "loud drums", "a bright synth lead"])
        audio_emb = net.encode_audio(wave, normalize=False)
        text_emb = net.encode_text(tokens)
        loss = module.loss_fn(F.normalize(audio_emb, dim=-1), text_emb, net.logit_scale.exp())
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[1], losses[0], atol=1e-4, rtol=1e-4)
    grads = [m.net.audio_encoder.stem[0].weight.grad for m in modules]
    torch.testing.assert_close(grads[1], grads[0], atol=1e-4, rtol=1e-3)
