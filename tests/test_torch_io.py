"""Network.to_torch / Network.from_torch: real torch modules from a spec and back, at fixed seeds."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from sigdist import Layer, Network  # noqa: E402
from sigdist._torch_io import BatchRMSNorm, ResidualLinear, SigdistActivation  # noqa: E402
from sigdist.montecarlo import simulate  # noqa: E402
from sigdist.weights import TRUNCATED_NORMAL_VARIANCE_FACTOR  # noqa: E402

SPEC = Network([Layer(40, 0.05, 0.2, "tanh"), Layer(60, 0.03, 0.0, "relu"),
                Layer(30, 0.02, 0.1, "leaky_relu", negative_slope=0.2), Layer(50, 0.04, 0.0, "gelu"),
                Layer(20, 0.1, 0.05, "linear")], input_width=30)


def variance_z(estimate, sigma2, n, kurtosis=3.0):
    """z-score of a mean of n squared centred draws of variance sigma2: se = sigma2 sqrt((kappa - 1) / n)."""
    return (estimate - sigma2) / (sigma2 * math.sqrt((kurtosis - 1.0) / n))


def test_round_trip_keeps_widths_activations_and_bias_presence():
    module = SPEC.to_torch(seed=0)
    back = Network.from_torch(module)
    assert back.input_width == SPEC.input_width and back.widths == SPEC.widths
    assert [l.activation.name for l in back] == [l.activation.name for l in SPEC]
    assert [l.sigma_b2 == 0 for l in back] == [l.sigma_b2 == 0 for l in SPEC]
    assert [isinstance(m, nn.Linear) and m.bias is not None for m in module if isinstance(m, nn.Linear)] == \
        [l.sigma_b2 > 0 for l in SPEC]


def test_round_trip_variances_are_within_their_sampling_error():
    back = Network.from_torch(SPEC.to_torch(seed=1))
    fan_in = SPEC.input_width
    for layer, read in zip(SPEC, back):
        assert abs(variance_z(read.sigma_w2, layer.sigma_w2, layer.width * fan_in)) < 4
        if layer.sigma_b2 > 0:
            assert abs(variance_z(read.sigma_b2, layer.sigma_b2, layer.width)) < 4
        fan_in = layer.width


def test_weight_laws_reach_the_module_with_their_variance():
    # the truncated normal keeps 0.774 of sigma_w2, the uniform law all of it (kurtosis 9/5)
    spec = Network([Layer(200, 0.5, weight_law="truncated_normal"), Layer(200, 0.5, weight_law="uniform")],
                   input_width=200)
    module = spec.to_torch(seed=2, dtype=torch.float64)
    trunc, unif = module[0].weight.detach(), module[2].weight.detach()
    assert float(trunc.abs().max()) <= 2 * math.sqrt(0.5)
    kappa = spec[0].weight_law.kurtosis
    assert abs(variance_z(float(trunc.pow(2).mean()), TRUNCATED_NORMAL_VARIANCE_FACTOR * 0.5, 40000, kappa)) < 4
    assert float(unif.abs().max()) <= math.sqrt(3 * 0.5)
    assert abs(variance_z(float(unif.pow(2).mean()), 0.5, 40000, 1.8)) < 4


@pytest.mark.parametrize("spec", [
    SPEC,
    Network.gsm([6, 8, 4]),
    Network.looks_linear([6, 6, 6]),
    Network([Layer(7, 0.3, 0.1, "erf", weight_law="uniform", batch_norm=True),
             Layer(7, 0.5, 0.2, "relu", batch_norm=True, gamma=0.4)], input_width=5),
], ids=["mixed", "gsm", "looks_linear", "batch_norm_residual"])
def test_to_torch_has_the_weights_of_the_engines_first_network(spec):
    # one construction: simulate(chunk=1) draws network after network from the stream to_torch starts
    x = np.random.default_rng(3).standard_normal((4, spec.input_width))
    sim = simulate(spec, x, 3, seed=11, device="cpu", method="full", chunk=1, record=(spec.depth,))
    module = spec.to_torch(seed=11, dtype=torch.float64)
    with torch.no_grad():
        out = module(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(out, sim.activations[spec.depth][0], rtol=1e-12, atol=1e-14)
    other = spec.to_torch(seed=12, dtype=torch.float64)
    with torch.no_grad():
        assert not np.allclose(other(torch.as_tensor(x)).numpy(), out)


def test_to_torch_builds_batch_norm_and_skip_modules_that_from_torch_reads_back():
    spec = Network.bn_chain(8, 2, gamma=0.3, activation="relu")
    module = spec.to_torch(seed=4)
    assert isinstance(module[0], ResidualLinear) and isinstance(module[1], BatchRMSNorm)
    back = Network.from_torch(module, sigma_w2=1.0)
    assert [(l.width, l.sigma_w2, l.batch_norm, l.gamma, l.activation.name) for l in back] == \
        [(8, 1.0, True, 0.3, "relu")] * 2
    # BatchRMSNorm gives each unit mean square 1 over the batch (no centring)
    h = torch.randn(5, 8, generator=torch.Generator().manual_seed(0)) + 3.0
    np.testing.assert_allclose(BatchRMSNorm()(h).pow(2).mean(dim=0).numpy(), 1.0, rtol=1e-6)


def test_to_torch_follows_seed_dtype_and_wraps_activations_without_an_nn_module():
    spec = Network([Layer(4, 1.0, activation="abs")], input_width=3)
    a, b = spec.to_torch(seed=5), spec.to_torch(seed=np.random.default_rng(5))
    assert a[0].weight.dtype == torch.get_default_dtype()
    assert torch.equal(a[0].weight, spec.to_torch(seed=5)[0].weight)
    assert not torch.equal(a[0].weight, spec.to_torch(seed=6)[0].weight)
    assert b[0].weight.shape == (4, 3)
    assert isinstance(a[1], SigdistActivation) and Network.from_torch(a)[0].activation.name == "abs"
    assert spec.to_torch(seed=5, dtype=torch.float64)[0].weight.dtype == torch.float64


def test_from_torch_reads_a_plain_pytorch_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16, bias=False), nn.GELU(),
                          nn.Linear(16, 3))
    net = Network.from_torch(model)
    assert net.input_width == 10 and net.widths == [32, 16, 3]
    assert [l.activation.name for l in net] == ["relu", "gelu", "linear"]
    # the variances are the mean squares of the actual parameters; no bias reads as sigma_b2 = 0
    assert net[0].sigma_w2 == pytest.approx(float(model[0].weight.detach().double().pow(2).mean()), rel=1e-12)
    assert net[0].sigma_b2 == pytest.approx(float(model[0].bias.detach().double().pow(2).mean()), rel=1e-12)
    assert net[1].sigma_b2 == 0.0
    given = Network.from_torch(model, sigma_w2=[0.2, 0.125, 2 / 16], sigma_b2=0.0)
    assert [l.sigma_w2 for l in given] == [0.2, 0.125, 0.125] and all(l.sigma_b2 == 0 for l in given)
    assert [l.negative_slope for l in Network.from_torch(nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.3)))] \
        == [0.3]


@pytest.mark.parametrize("module, match", [
    (nn.Linear(3, 3), "module must be a torch.nn.Sequential"),
    (nn.Sequential(nn.Linear(3, 3), nn.ELU()), r"module\[1\] is ELU\(.*\).*supported are .*ReLU.*LeakyReLU"),
    (nn.Sequential(nn.Linear(3, 3), nn.GELU(approximate="tanh")), r"module\[1\] is GELU\(approximate='tanh'\)"),
    (nn.Sequential(nn.ReLU(), nn.Linear(3, 3)), r"module\[0\] \(ReLU\) comes before any Linear"),
    (nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), r"module\[1\] has in_features=5"),
    (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), r"module\[2\] \(Tanh\) is a second activation"),
    (nn.Sequential(), "at least one Linear"),
])
def test_from_torch_refuses_what_it_cannot_read(module, match):
    with pytest.raises(ValueError, match=match):
        Network.from_torch(module)


def test_from_torch_checks_given_variances_and_input_width():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"sigma_w2 must be a number or one number per Linear layer \(2\)"):
        Network.from_torch(model, sigma_w2=[1.0])
    with pytest.raises(ValueError, match="variance must be a finite number > 0"):
        Network.from_torch(model, sigma_w2=0.0)
    with pytest.raises(ValueError, match="variance must be a finite number >= 0"):
        Network.from_torch(model, sigma_b2=[0.1, -1.0])
    with pytest.raises(ValueError, match="input_width must equal the first layer's in_features 3"):
        Network.from_torch(model, input_width=5)
    zero = nn.Sequential(nn.Linear(3, 4, bias=False))
    nn.init.zeros_(zero[0].weight)
    with pytest.raises(ValueError, match="all-zero weights"):
        Network.from_torch(zero)


def test_to_torch_checks_its_arguments():
    with pytest.raises(ValueError, match="input_width"):
        Network([Layer(3, 1.0)]).to_torch(seed=0)
    with pytest.raises(ValueError, match="dtype"):
        Network.he([3, 3]).to_torch(dtype=torch.int64)
    with pytest.raises(ValueError, match="seed"):
        Network.he([3, 3]).to_torch(seed=-1)
