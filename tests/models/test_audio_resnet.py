"""ModifiedResNet: any spectrogram size, batch 1, gradients, batch independence in eval."""

import pytest
import torch

from muscall.models import ModifiedResNet


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return ModifiedResNet(layers=(1, 1, 1, 1), width=8, heads=2, output_dim=24)


@pytest.mark.parametrize("size", [(128, 626), (32, 376), (64, 50), (40, 33), (16, 16), (8, 3)])
def test_any_frequency_by_time_size(resnet, size):
    resnet.eval()
    out = resnet(torch.randn(2, 1, *size))
    assert out.shape == (2, 24)
    assert torch.isfinite(out).all()
    assert resnet.output_dim == 24


@pytest.mark.parametrize("training", [True, False])
def test_batch_of_one(resnet, training):
    resnet.train(training)
    out = resnet(torch.randn(1, 1, 64, 100))
    assert out.shape == (1, 24)
    assert torch.isfinite(out).all()


def test_eval_output_does_not_depend_on_batch_mates(resnet):
    resnet.eval()
    x = torch.randn(3, 1, 32, 64)
    torch.testing.assert_close(resnet(x)[:1], resnet(x[:1]), atol=1e-5, rtol=1e-4)


def test_gradient_reaches_every_stage():
    torch.manual_seed(0)
    resnet = ModifiedResNet(layers=(2, 1, 1, 1), width=8, heads=2, output_dim=16)
    resnet(torch.randn(2, 1, 32, 48)).pow(2).sum().backward()
    for name, param in resnet.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
    for part in (resnet.stem, *resnet.stages, resnet.attnpool):
        assert sum(p.grad.abs().sum() for p in part.parameters()) > 0


def test_reference_grid_uses_the_position_tables_unresampled():
    resnet = ModifiedResNet(layers=(1, 1, 1, 1), width=8, heads=2, output_dim=8)
    grid = resnet.stages(resnet.stem(torch.randn(1, 1, 128, 626)))
    assert grid.shape[-2:] == (4, 20)
    assert resnet.attnpool.freq_embedding.shape[0] == 4
    assert resnet.attnpool.time_embedding.shape[0] == 20


def test_heads_must_divide_channels():
    with pytest.raises(ValueError, match="heads"):
        ModifiedResNet(layers=(1, 1, 1, 1), width=8, heads=3, output_dim=8)


def test_average_pooling_works_at_batch_one_and_any_length():
    import pytest
    import torch

    from muscall.models import ModifiedResNet

    net = ModifiedResNet(layers=(1, 1, 1, 1), width=8, heads=2, output_dim=16, pooling="average")
    net.eval()
    for frames in (40, 97):
        assert net(torch.randn(1, 1, 32, frames)).shape == (1, 16)
    assert "attnpool.proj.weight" in net.state_dict()
    with pytest.raises(ValueError, match="pooling='max'"):
        ModifiedResNet(pooling="max")


@pytest.mark.parametrize("training", [True, False])
def test_channels_last_gives_the_same_outputs_and_gradients(training):
    torch.manual_seed(0)
    plain = ModifiedResNet(layers=(1, 2, 1, 1), width=8, heads=2, output_dim=16)
    nhwc = ModifiedResNet(layers=(1, 2, 1, 1), width=8, heads=2, output_dim=16, channels_last=True)
    nhwc.load_state_dict(plain.state_dict())
    assert nhwc.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    plain.train(training), nhwc.train(training)
    spec = torch.randn(3, 1, 32, 70)
    out, out_nhwc = plain(spec), nhwc(spec)
    # Another summation order in the convolution kernels: float32 rounding only.
    torch.testing.assert_close(out_nhwc, out, atol=1e-5, rtol=1e-4)
    out.square().sum().backward()
    out_nhwc.square().sum().backward()
    for (name, p), q in zip(plain.named_parameters(), nhwc.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-4, msg=name)
