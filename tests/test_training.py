"""train_population: the batched population is R separate nn.Module trainings, computed together.

The reference below trains each seed alone with plain torch (``Network.to_torch(seed)`` plus the readout,
``torch.optim`` over the module's parameters, the documented mini-batch order) and evaluates it the same
way; the population must agree to rounding in float64 (batched and unbatched matrix products round
differently, and a few dozen steps of training amplify that by a modest factor).
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sigdist import Layer, Network, ResidualNetwork, SigdistWarning  # noqa: E402
from sigdist.activations import Activation  # noqa: E402
from sigdist.training import gaussian_mixture, readout_layer, train_population  # noqa: E402

F = torch.nn.functional
RTOL = 1e-12


@pytest.fixture(scope="module")
def data():
    return gaussian_mixture(8, n_classes=3, separation=3.0, n_train=48, n_test=24, seed=1)


def _batches(n_train, batch_size, steps, data_seed):
    # as documented: one default_rng(data_seed), a permutation per epoch, incomplete last batch dropped
    rng = np.random.default_rng(data_seed)
    per_epoch = n_train // batch_size
    out = []
    while len(out) < steps:
        perm = rng.permutation(n_train)
        out += [perm[k * batch_size:(k + 1) * batch_size] for k in range(per_epoch)]
    return out[:steps]


def _residual_forward(modules, etas, sizes):
    """x_l = x_{l-1} + eta_l M_l(x_{l-1}), the modules' layers taken in order from one Sequential."""
    def forward(x):
        children = list(modules)
        k = 0
        for eta, size in zip(etas, sizes):
            inner = x
            for _ in range(size):
                inner = children[k](inner)
                k += 1
            x = x + eta * inner
        return children[k](x)  # the readout
    return forward


def _reference(network, data, seed, *, optimizer, lr, momentum=0.0, steps, batch_size, eval_every,
               weight_decay=0.0, factor=lambda t: 1.0, data_seed=0, device="cpu"):
    """One seed trained alone: curves (loss, train_accuracy, test_loss, test_accuracy) at the eval steps."""
    if isinstance(network, ResidualNetwork):
        layers = [layer for module in network.modules for layer in module]
        head = readout_layer("he", network.input_width, data.n_classes)
        module = Network(layers + [head], input_width=network.input_width).to_torch(seed, dtype=torch.float64,
                                                                                  device=device)
        # a Sequential of Linear + activation pairs (relu modules): regroup them into one child per layer
        children = list(module)
        grouped, k = [], 0
        while k < len(children) - 1:
            grouped.append(torch.nn.Sequential(children[k], children[k + 1]))
            k += 2
        grouped.append(children[-1])
        model = torch.nn.ModuleList(grouped)
        forward = _residual_forward(model, network.etas, [m.depth for m in network.modules])
        params = list(model.parameters())
    else:
        head = readout_layer("he", network.layers[-1].width, data.n_classes)
        model = Network(list(network) + [head], input_width=network.input_width).to_torch(seed, dtype=torch.float64,
                                                                                         device=device)
        forward, params = model, list(model.parameters())
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    xs = {s: torch.tensor(getattr(data, f"x_{s}"), device=device) for s in ("train", "test")}
    ys = {s: torch.tensor(getattr(data, f"y_{s}"), device=device) for s in ("train", "test")}
    curves = []

    def evaluate():
        row = []
        with torch.no_grad():
            for s in ("train", "test"):
                logits = forward(xs[s])
                row += [float(F.cross_entropy(logits, ys[s])), float((logits.argmax(1) == ys[s]).double().mean())]
        curves.append(row)

    for t, idx in enumerate(_batches(data.n_train, batch_size, steps, data_seed)):
        if t % eval_every == 0:
            evaluate()
        for group in opt.param_groups:
            group["lr"] = lr * factor(t)
        opt.zero_grad()
        F.cross_entropy(forward(xs["train"][idx]), ys["train"][idx]).backward()
        opt.step()
    evaluate()
    return np.array(curves)  # (T, 4): loss, train_accuracy, test_loss, test_accuracy


def _check_equal(result, network, data, **kwargs):
    for r, seed in enumerate(result.seeds):
        ref = _reference(network, data, int(seed), **kwargs)
        np.testing.assert_allclose(result.loss[r], ref[:, 0], rtol=RTOL)
        np.testing.assert_allclose(result.test_loss[r], ref[:, 2], rtol=RTOL)
        np.testing.assert_array_equal(result.train_accuracy[r], ref[:, 1])
        np.testing.assert_array_equal(result.test_accuracy[r], ref[:, 3])
    # the curves moved: a training that did nothing would agree trivially
    assert np.all(np.abs(result.loss[:, -1] - result.loss[:, 0]) > 1e-3)


NETWORKS = {
    "relu_he": lambda: Network.he([8, 16, 16]),
    "gsm": lambda: Network.gsm([8, 16, 16]),
    "looks_linear": lambda: Network.looks_linear([8, 16, 16]),
    "batch_norm_with_bias_tanh": lambda: Network([Layer(16, 0.25, 0.1, "tanh", batch_norm=True),
                                                  Layer(16, 1 / 16, 0.0, "relu", batch_norm=True)], input_width=8),
    "truncated_normal_gamma": lambda: Network([Layer(8, 0.25, weight_law="truncated_normal", gamma=0.5),
                                               Layer(12, 1 / 8, 0.05, "gelu")], input_width=8),
    "residual": lambda: ResidualNetwork.uniform(8, [12], [0.5, 0.25, 1.0]),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_population_equals_separate_trainings_of_each_seed(data, name, optimizer):
    network = NETWORKS[name]()
    settings = dict(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.01, steps=12, batch_size=8,
                    eval_every=5, momentum=0.9 if optimizer == "sgd" else 0.0, weight_decay=1e-3)
    result = train_population(network, data, [3, 0, 11], device="cpu", progress=False, **settings)
    assert result.steps.tolist() == [0, 5, 10, 12]
    assert not result.diverged.any()
    _check_equal(result, network, data, **settings)


def test_the_cuda_way_of_checking_divergence_changes_no_live_seed(data, monkeypatch):
    from sigdist.training import _population

    monkeypatch.setattr(_population, "_sync_free", lambda device: True)
    network = NETWORKS["residual"]()
    settings = dict(optimizer="adam", lr=0.01, steps=12, batch_size=8, eval_every=5, weight_decay=1e-3)
    result = train_population(network, data, [3, 0], device="cpu", progress=False, **settings)
    _check_equal(result, network, data, **settings)


def test_schedules_scale_the_learning_rate_as_documented(data):
    network = Network.he([8, 16])
    steps = 8
    factors = {"step": lambda t: 1.0 if t < 4 else (0.1 if t < 6 else 0.01),
               "cosine": lambda t: 0.5 * (1 + math.cos(math.pi * t / steps)),
               "callable": lambda t: 1.0 / (1 + t)}
    for name, factor in factors.items():
        schedule = factor if name == "callable" else name
        result = train_population(network, data, [5], schedule=schedule, lr=0.2, steps=steps, batch_size=8,
                                  eval_every=4, device="cpu", progress=False)
        _check_equal(result, network, data, optimizer="sgd", lr=0.2, steps=steps, batch_size=8, eval_every=4,
                     factor=factor)


def test_integer_seeds_mean_the_seeds_zero_to_r_minus_one(data):
    a = train_population(Network.he([8, 8]), data, 3, steps=3, eval_every=3, batch_size=8, device="cpu",
                         progress=False)
    b = train_population(Network.he([8, 8]), data, [0, 1, 2], steps=3, eval_every=3, batch_size=8, device="cpu",
                         progress=False)
    assert a.seeds.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(a.loss, b.loss)


def test_another_data_seed_changes_the_batches_not_the_initialisation(data):
    kwargs = dict(steps=4, eval_every=4, batch_size=8, device="cpu", progress=False)
    a = train_population(Network.he([8, 8]), data, [0], data_seed=0, **kwargs)
    b = train_population(Network.he([8, 8]), data, [0], data_seed=1, **kwargs)
    assert a.loss[0, 0] == b.loss[0, 0]  # same initial network
    assert a.loss[0, 1] != b.loss[0, 1]  # trained on other batches


def _exploding():
    exp = Activation("exp", np.exp, torch_phi=torch.exp)
    return Network([Layer(16, 0.2, 0.0, exp)], input_width=8)


@pytest.mark.parametrize("sync_free", [False, True])
def test_a_diverging_seed_stops_and_leaves_the_others_untouched(data, sync_free, monkeypatch):
    # exp units overflow for seed 1 at step 10 with these settings (the others stay finite); sync_free is the
    # CUDA way of checking (masks every step, never waiting for the device), run here on the CPU
    from sigdist.training import _population

    monkeypatch.setattr(_population, "_sync_free", lambda device: sync_free)
    kwargs = dict(lr=0.03, steps=30, batch_size=8, eval_every=10, device="cpu", progress=False)
    result = train_population(_exploding(), data, 8, **kwargs)
    assert result.diverged.tolist() == [k == 1 for k in range(8)]
    assert result.diverged_step.tolist() == [10 if k == 1 else -1 for k in range(8)]
    for curve in (result.loss, result.test_loss, result.train_accuracy, result.test_accuracy):
        assert not np.isnan(curve).any()
    # frozen from step 10 on: the evaluations at 10, 20 and 30 see the same parameters
    for curve in (result.loss, result.test_loss, result.train_accuracy, result.test_accuracy):
        assert np.all(curve[1, 1:] == curve[1, 1])
    assert result.loss[1, 1] == math.inf
    others = [k for k in range(8) if k != 1]
    alone = train_population(_exploding(), data, others, **kwargs)
    np.testing.assert_allclose(result.loss[others], alone.loss, rtol=RTOL)
    np.testing.assert_array_equal(result.test_accuracy[others], alone.test_accuracy)
    summary = result.summary()
    assert summary["loss"].n.tolist() == [8, 7, 7, 7]
    assert np.isfinite(summary["loss"].mean).all()


def test_an_interrupt_returns_the_curves_done_so_far(data, monkeypatch):
    from sigdist.training import _population

    forward, calls = _population._forward, []

    def interrupted(layout, params, x):
        if x.shape[0] == 8:  # a training step (evaluations pass whole splits)
            calls.append(1)
            if len(calls) == 7:
                raise KeyboardInterrupt
        return forward(layout, params, x)

    monkeypatch.setattr(_population, "_forward", interrupted)
    with pytest.warns(SigdistWarning, match="interrupted at step 6"):
        result = train_population(Network.he([8, 8]), data, 2, steps=20, batch_size=8, eval_every=5, device="cpu",
                                  progress=False)
    assert not result.completed
    assert result.steps.tolist() == [0, 5]
    assert result.loss.shape == (2, 2) and np.isfinite(result.loss).all()


def _bad(dataset, **kwargs):
    settings = dict(network=Network.he([8, 8]), data=dataset, seeds=2, steps=2, batch_size=4, device="cpu",
                    progress=False)
    settings.update(kwargs)
    return lambda: train_population(**settings)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(lr=-1.0), "lr must be"),
    (dict(lr=float("nan")), "lr must be"),
    (dict(steps=0), "steps must be an integer >= 1"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(batch_size=49), r"batch_size must be in \[1, n_train\] = \[1, 48\]"),
    (dict(eval_every=0), "eval_every must be an integer >= 1"),
    (dict(optimizer="rmsprop"), "optimizer must be one of sgd, adam"),
    (dict(schedule="linear"), "schedule must be None, one of constant, step, cosine"),
    (dict(schedule=lambda t: -1.0), r"schedule\(0\) must return a finite number >= 0"),
    (dict(schedule=lambda t: float("nan") if t == 1 else 1.0), r"schedule\(1\) must return"),
    (dict(momentum=1.0), r"momentum must be a number in \[0, 1\)"),
    (dict(optimizer="adam", momentum=0.9), "momentum must be 0 with optimizer='adam'"),
    (dict(weight_decay=-1e-3), "weight_decay must be a finite number >= 0"),
    (dict(seeds=0), "seeds must be an integer >= 1"),
    (dict(seeds=[1, 1]), "seeds must be distinct"),
    (dict(seeds=[]), "seeds must be"),
    (dict(seeds="3"), "seeds must be"),
    (dict(readout="xavier"), "readout must be 'he', 'lecun' or"),
    (dict(readout=-1.0), "readout must be"),
    (dict(pretrain="bn"), "pretrain must be None, 'rank' or 'rank_rescaled'"),
    (dict(pretrain="rank", network=ResidualNetwork.uniform(8, [8], [0.5])), "pretrain='rank' needs a plain"),
    (dict(dtype="float16"), "dtype must be 'float32' or 'float64'"),
    (dict(device="tpu"), "device must be"),
    (dict(data_seed=-1), "data_seed must be"),
    (dict(progress="yes"), "progress must be"),
    (dict(network=Network.he([5, 8])), "data has 8 features, the network's input_width is 5"),
    (dict(data=(np.zeros((4, 8)), np.zeros(4))), "data must be a sigdist.training.Dataset"),
    (dict(network=Network([Layer(8, 0.25, 0.0, np.tanh)], input_width=8)), "has no torch form"),
])
def test_bad_settings_are_refused_before_any_work(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _bad(data, **kwargs)()


def test_rank_pretraining_starts_from_the_weights_maximize_rank_bound_returns(data):
    from sigdist.pretraining import maximize_rank_bound
    from sigdist.training import minibatch_indices

    network = Network.he([8, 16, 16, 16])
    kwargs = dict(steps=1, eval_every=1, batch_size=16, device="cpu", progress=False)
    plain = train_population(network, data, [4], **kwargs)
    pretrained = train_population(network, data, [4], pretrain="rank", **kwargs)
    module = Network(list(network) + [readout_layer("he", 16, 3)], input_width=8).to_torch(4, dtype=torch.float64)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    x0 = torch.tensor(data.x_train[minibatch_indices(data.n_train, 16, 1)[0]]).T
    new, before, after = maximize_rank_bound([m.weight.detach() for m in linears[:-1]], x0)
    assert after[-1] > before[-1] + 0.5  # the pre-training did something
    with torch.no_grad():
        for m, w in zip(linears, new):
            m.weight.copy_(w)
        loss = float(F.cross_entropy(module(torch.tensor(data.x_train)), torch.tensor(data.y_train)))
    assert pretrained.loss[0, 0] == pytest.approx(loss, rel=RTOL)
    assert abs(plain.loss[0, 0] - loss) > 1e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_population_on_cuda_equals_separate_trainings_on_cuda(data):
    network = NETWORKS["batch_norm_with_bias_tanh"]()
    settings = dict(optimizer="sgd", lr=0.05, steps=12, batch_size=8, eval_every=5, momentum=0.9)
    result = train_population(network, data, [3, 0], device="cuda", progress=False, **settings)
    assert result.device.startswith("cuda")
    _check_equal(result, network, data, device="cuda", **settings)


def test_rescaled_rank_pretraining_keeps_the_rank_and_restores_the_scale(data):
    from sigdist.pretraining import maximize_rank_bound
    from sigdist.rank import rank_bound
    from sigdist.training import minibatch_indices

    network = Network.he([8, 16, 16, 16])
    kwargs = dict(steps=1, eval_every=1, batch_size=16, device="cpu", progress=False)
    result = train_population(network, data, [4], pretrain="rank_rescaled", **kwargs)
    module = Network(list(network) + [readout_layer("he", 16, 3)], input_width=8).to_torch(4, dtype=torch.float64)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    x0 = torch.tensor(data.x_train[minibatch_indices(data.n_train, 16, 1)[0]]).T
    old = [m.weight.detach().clone() for m in linears[:-1]]
    new, _, after = maximize_rank_bound(old, x0)
    h_old, h_new = x0, x0
    for i, (w, v) in enumerate(zip(old, new)):
        h_old, raw = torch.relu(w @ h_old), torch.relu(v @ h_new)
        c = torch.sqrt(torch.sum(h_old ** 2) / torch.sum(raw ** 2))
        h_new = torch.relu(c * v @ h_new)
        assert float(torch.sum(h_new ** 2)) == pytest.approx(float(torch.sum(h_old ** 2)), rel=1e-12)
        assert float(rank_bound(h_new)) == pytest.approx(after[i], rel=1e-9)
        with torch.no_grad():
            linears[i].weight.copy_(c * v)
    with torch.no_grad():
        loss = float(F.cross_entropy(module(torch.tensor(data.x_train)), torch.tensor(data.y_train)))
    assert result.loss[0, 0] == pytest.approx(loss, rel=RTOL)
    with pytest.raises(ValueError, match="pretrain='rank_rescaled' needs a positively homogeneous activation"):
        train_population(Network([Layer(8, 0.25, 0.0, "tanh")], input_width=8), data, 1, pretrain="rank_rescaled",
                         **kwargs)
