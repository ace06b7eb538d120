r"""Train many seeds of one network at once: stacked weights, one forward and backward pass per step.

Network ``r`` of the population has weights ``W_l[r]`` of shape ``(N_l, N_{l-1})``; the population stores
``W_l`` of shape ``(R, N_l, N_{l-1})`` and computes every layer for all seeds with one batched matrix
product (``torch.matmul``, which runs ``bmm``). The loss minimised is ``sum_r L_r`` with ``L_r`` the mean
cross-entropy of network ``r`` on the mini-batch, so the gradient of ``W_l[r]`` is exactly network
``r``'s own gradient; SGD and Adam update every entry from its own gradient and state only, so one
``torch.optim`` optimiser over the stacked tensors makes the updates ``R`` separate optimisers would make.
The population is therefore ``R`` separate trainings of ``nn.Module`` s computed together (tested to
rounding in float64), on CUDA when present.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch

from .._checks import check_finite, check_integer, check_nonnegative, check_positive, check_seed
from .._device import resolve_device
from .._progress import check_progress, progress_bar
from .._random import numpy_generator, torch_generator
from .._torch_io import batch_normalise, draw_biases, draw_weights
from .._warnings import SigdistWarning
from ..network import Layer, ResidualNetwork, as_network
from ..pretraining import maximize_rank_bound
from ._result import TrainingResult
from .data import Dataset

__all__ = ["OPTIMIZERS", "SCHEDULES", "minibatch_indices", "readout_layer", "schedule_factor", "train_population"]

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "step", "cosine")
READOUTS = ("he", "lecun")
PRETRAININGS = (None, "rank", "rank_rescaled")
_EVAL_MEMORY = 128 * 2**20  # bytes of activations per evaluation chunk of seeds


# -- the settings, checked before any work ---------------------------------------------------------

def schedule_factor(schedule, steps):
    """The learning-rate factor ``step -> factor`` of a schedule name or callable."""
    if schedule is None or schedule == "constant":
        return lambda step: 1.0
    if schedule == "step":  # x0.1 at half the steps and again at three quarters
        return lambda step: 1.0 if step < steps // 2 else (0.1 if step < (3 * steps) // 4 else 0.01)
    if schedule == "cosine":
        return lambda step: 0.5 * (1.0 + math.cos(math.pi * step / steps))
    if callable(schedule) and not isinstance(schedule, str):
        return schedule
    raise ValueError(f"schedule must be None, one of {', '.join(SCHEDULES)}, or a callable step -> factor, "
                     f"got {schedule!r}")


def _check_factor(value, step):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value >= 0):
        raise ValueError(f"schedule({step}) must return a finite number >= 0 (the learning-rate factor), "
                         f"got {value!r}")
    return float(value)


def readout_layer(readout, fan_in, n_classes) -> Layer:
    """The linear readout appended to the network: ``n_classes`` units, no bias, ``N(0, sigma_w2)`` weights.

    ``readout="he"``: ``sigma_w2 = 2 / fan_in``; ``"lecun"``: ``1 / fan_in``; a number: that ``sigma_w2``.
    """
    if readout == "he":
        sigma_w2 = 2.0 / fan_in
    elif readout == "lecun":
        sigma_w2 = 1.0 / fan_in
    elif isinstance(readout, numbers.Real) and not isinstance(readout, bool):
        sigma_w2 = readout
    else:
        raise ValueError(f"readout must be 'he', 'lecun' or a weight variance > 0, got {readout!r}")
    if not (math.isfinite(sigma_w2) and sigma_w2 > 0):
        raise ValueError(f"readout must be 'he', 'lecun' or a finite weight variance > 0, got {readout!r}")
    return Layer(n_classes, sigma_w2, 0.0, "linear")


def _check_dtype(dtype):
    names = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, str) and dtype in names:
        return names[dtype]
    if dtype in (torch.float32, torch.float64):
        return dtype
    raise ValueError(f"dtype must be 'float32' or 'float64' (or the torch dtype), got {dtype!r}")


def _check_seeds(seeds):
    if isinstance(seeds, (numbers.Integral, np.integer)) and not isinstance(seeds, bool):
        return list(range(check_integer(seeds, "seeds")))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds must be a number of seeds >= 1 or a sequence of integer seeds, got {seeds!r}")
    seeds = [check_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
    if not seeds or any(not isinstance(s, int) for s in seeds):
        raise ValueError(f"seeds must be a number of seeds >= 1 or a non-empty sequence of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct: two equal seeds are the same network trained twice")
    return seeds


def _layout(network):
    """``[(layer, fan_in, eta)]``: every body layer in drawing order; ``eta`` is None for a plain layer,
    else the scale of the residual module it belongs to (marked on the module's last layer only)."""
    if isinstance(network, ResidualNetwork):
        out = []
        for module, eta in zip(network.modules, network.etas):
            fan_in = module.input_width
            for k, layer in enumerate(module):
                out.append((layer, fan_in, ("end", eta) if k == len(module) - 1 else ("in", eta)))
                fan_in = layer.width
        return out
    out, fan_in = [], network.input_width
    for layer in network:
        out.append((layer, fan_in, None))
        fan_in = layer.width
    return out


def _epochs(n_train, batch_size, data_seed):
    """Each epoch's batches in turn, an array (n_train // batch_size, batch_size) per epoch."""
    rng = numpy_generator(data_seed, "data_seed")
    per_epoch = n_train // batch_size
    while True:
        yield rng.permutation(n_train)[: per_epoch * batch_size].reshape(per_epoch, batch_size)


def minibatch_indices(n_train, batch_size, steps, data_seed=0):
    """The training examples of every step, shape ``(steps, batch_size)``: the same for every seed.

    Each epoch is a permutation ``numpy.random.default_rng(data_seed).permutation(n_train)`` (one generator,
    one permutation per epoch in turn) cut into ``n_train // batch_size`` consecutive batches; the last
    incomplete batch of an epoch is dropped, so every batch (and batch norm's statistics) has
    ``batch_size`` examples. (:func:`train_population` draws the same epochs one at a time.)
    """
    n_train, batch_size, steps = (check_integer(n_train, "n_train"), check_integer(batch_size, "batch_size"),
                                  check_integer(steps, "steps"))
    if batch_size > n_train:
        raise ValueError(f"batch_size must be in [1, n_train] = [1, {n_train}], got {batch_size}")
    epochs = _epochs(n_train, batch_size, data_seed)
    per_epoch = n_train // batch_size
    return np.concatenate([next(epochs) for _ in range(-(-steps // per_epoch))])[:steps]


# -- the population --------------------------------------------------------------------------------

def _draw(layout, head, seeds, device):
    """Stacked float64 parameters ``[(W, b or None)]`` per layer: seed ``r``'s are what
    ``Network.to_torch(seed=seeds[r])`` draws (same generator, same order: weights, then biases)."""
    per_seed = []
    for seed in seeds:
        gen = torch_generator(seed, device)
        params = []
        for layer, fan_in, _ in layout + [(head, layout[-1][0].width if layout else None, None)]:
            w = draw_weights(layer, 1, fan_in, gen, device)[0]
            b = draw_biases(layer, 1, gen, device)
            params.append((w, None if b is None else b[0]))
        per_seed.append(params)
    return [(torch.stack([p[k][0] for p in per_seed]),
             None if per_seed[0][k][1] is None else torch.stack([p[k][1] for p in per_seed]))
            for k in range(len(per_seed[0]))]


def _layer_forward(layer, w, b, x):
    """``x`` (B, d) shared or (R, B, d) -> (R, B, N_l), as ``to_torch``'s modules compute it."""
    h = torch.matmul(x, w.transpose(1, 2))
    if layer.residual:  # Daneshmand et al. eq. 1: x + gamma W x
        h = x + layer.gamma * h
    if b is not None:
        h = h + b.unsqueeze(1)
    if layer.batch_norm:  # over the mini-batch (axis 1), each network on its own
        h = batch_normalise(h, dim=1)
    return layer.activation.torch(h)


def _forward(layout, params, x):
    """Logits (R, B, n_classes) of every network for inputs ``x`` (B, d)."""
    skip = x
    for (layer, _, eta), (w, b) in zip(layout, params):
        x = _layer_forward(layer, w, b, x)
        if eta is not None and eta[0] == "end":  # Hanin & Rolnick eq. 1: x_l = x_{l-1} + eta_l M_l(x_{l-1})
            x = skip + eta[1] * x
            skip = x
    w, _ = params[-1]
    return torch.matmul(x, w.transpose(1, 2))


def _per_seed_loss(logits, y):
    """Mean cross-entropy of each network, shape (R,)."""
    logp = torch.log_softmax(logits, dim=-1)
    return -logp.gather(-1, y.expand(logits.shape[0], -1).unsqueeze(-1)).squeeze(-1).mean(dim=1)


def _evaluate(layout, params, x, y, chunk):
    """(loss, accuracy) of every network on the whole split (one batch: batch norm sees all of it)."""
    losses, accuracies = [], []
    with torch.no_grad():
        for start in range(0, params[0][0].shape[0], chunk):
            part = [(w[start:start + chunk], None if b is None else b[start:start + chunk]) for w, b in params]
            logits = _forward(layout, part, x)
            loss = _per_seed_loss(logits, y)
            correct = (torch.argmax(logits, dim=-1) == y) & torch.isfinite(logits).all(dim=-1)
            losses.append(torch.nan_to_num(loss, nan=math.inf))
            accuracies.append(correct.to(logits.dtype).mean(dim=1))
    return torch.cat(losses).cpu().numpy(), torch.cat(accuracies).cpu().numpy()


def _pretrain_rank(layout, params, x0, rescale):
    """Daneshmand et al. §4: each seed's body weights through :func:`sigdist.pretraining.maximize_rank_bound`.

    With ``rescale``, pre-trained layer ``l`` is multiplied by the ``c_l > 0`` that gives the batch's mean
    squared activation norm at layer ``l`` its value in the network before pre-training: for a positively
    homogeneous activation ``phi(c h) = c phi(h)``, so ``r(H_l)`` is what the pre-training made it.
    """
    phi = layout[0][0].activation.torch
    for k in range(params[0][0].shape[0]):
        weights = [w[k] for w, _ in params[:-1]]
        new, _, _ = maximize_rank_bound(weights, x0.T, activation=layout[0][0].activation)
        if rescale:
            before, after = x0.T, x0.T
            for i, (w, v) in enumerate(zip(weights, new)):
                v = v.to(w.device)
                before = phi(w @ before)
                raw = phi(v @ after)
                target, have = float(torch.sum(before * before)), float(torch.sum(raw * raw))
                c = math.sqrt(target / have) if have > 0 else 1.0
                new[i] = c * v
                after = c * raw
        for (w, _), v in zip(params[:-1], new):
            w[k] = v.to(w.device)


def _per_seed(mask, p):
    """A mask over seeds shaped to broadcast against the stacked parameter ``p`` (seeds first)."""
    return mask.view((-1,) + (1,) * (p.ndim - 1))


def _sync_free(device):
    """On CUDA the divergence check never waits for the device (masks every step); on the CPU it branches."""
    return device.type == "cuda"


class _Divergence:
    """Stops the seeds whose mini-batch loss turned non-finite, and only those.

    A seed found non-finite at step ``t`` is recorded (``step_of``), its parameters before step ``t``'s update
    are kept, its gradient is zeroed (it may hold NaN, which must reach no optimiser state) and after every
    update its parameters are put back. Each seed's computation is its own slice of the stacked tensors, so
    the others go on exactly as they would alone.
    """

    def __init__(self, flat, n_seeds, device):
        self.flat = flat
        self.alive = torch.ones(n_seeds, dtype=torch.bool, device=device)
        self.step_of = torch.full((n_seeds,), -1, dtype=torch.int64, device=device)
        self.sync_free = _sync_free(device)
        self.frozen = [p.detach().clone() for p in flat] if self.sync_free else None

    def check(self, losses, step):
        """The loss to differentiate: the sum of the live seeds' losses, after marking the new diverged ones."""
        newly = self.alive & ~torch.isfinite(losses.detach())
        if self.sync_free or bool(newly.any()):
            if self.frozen is None:
                self.frozen = [p.detach().clone() for p in self.flat]
            self.step_of = torch.where(newly, step, self.step_of)
            with torch.no_grad():
                for p, f in zip(self.flat, self.frozen):
                    f.copy_(torch.where(_per_seed(newly, p), p, f))
            self.alive = self.alive & ~newly
        return torch.where(self.alive, losses, torch.zeros_like(losses)).sum()

    def before_update(self):
        if self.frozen is not None:
            for p in self.flat:
                p.grad.masked_fill_(_per_seed(~self.alive, p), 0.0)

    def after_update(self):
        if self.frozen is not None:
            with torch.no_grad():
                for p, f in zip(self.flat, self.frozen):
                    p.copy_(torch.where(_per_seed(self.alive, p), p, f))


def train_population(network, data, seeds=10, *, optimizer="sgd", lr=0.01, momentum=0.0, schedule=None,
                     batch_size=64, steps=1000, eval_every=50, weight_decay=0.0, readout="he", pretrain=None,
                     device="auto", dtype="float64", data_seed=0, progress=None) -> TrainingResult:
    r"""Train ``R`` independently initialised copies of ``network`` on ``data`` at once.

    Network ``r`` is ``network`` followed by a linear readout to ``data.n_classes`` outputs, initialised
    exactly as ``Network(list(network) + [readout_layer(readout, ...)]).to_torch(seed=seeds[r])`` draws it
    (the Monte Carlo engine's construction, :mod:`sigdist._torch_io`), and trained on the mean
    cross-entropy of mini-batches. All networks see the same mini-batches in the same order
    (:func:`minibatch_indices`), so they differ only by their initialisation: the spread of the curves is
    the spread over initialisations that the papers' statistics predict.

    Parameters
    ----------
    network : Network, ResidualNetwork or anything :func:`sigdist.as_network` takes
        The hidden layers (any activation, weight law, sharing, batch norm, ``gamma``; or the residual
        modules and scales ``eta``). ``network.input_width`` must equal ``data.input_width``. Sharing
        (GSM, looks-linear) fixes the initial weights only; training updates every entry.
    data : Dataset
        From :func:`load_digits`, :func:`teacher_task`, :func:`gaussian_mixture` or a user's arrays.
    seeds : int or sequence of int, optional
        ``R`` (the seeds ``0, 1, ..., R-1``) or the integer seeds themselves (distinct). Default 10.
    optimizer : {"sgd", "adam"}, optional
        ``torch.optim.SGD`` (with ``momentum``) or ``torch.optim.Adam`` (default betas).
    lr : float, optional
        Learning rate ``> 0`` (default 0.01).
    momentum : float, optional
        SGD momentum in ``[0, 1)`` (default 0; must be 0 with Adam).
    schedule : None, "constant", "step", "cosine" or callable, optional
        Factor multiplying ``lr`` at step ``t`` of ``T = steps``: constant 1; ``"step"``: 1, then 0.1 from
        ``T // 2`` and 0.01 from ``3T // 4``; ``"cosine"``: ``(1 + cos(pi t / T)) / 2``; a callable
        ``t -> factor`` (finite, ``>= 0``).
    batch_size : int, optional
        Examples per step, ``1 <= batch_size <= data.n_train`` (default 64).
    steps : int, optional
        Optimisation steps ``>= 1`` (default 1000).
    eval_every : int, optional
        Steps between evaluations (``>= 1``, default 50); the curves are evaluated at step 0, every
        ``eval_every`` steps, and at ``steps``, each on the whole train and test splits passed as one batch.
    weight_decay : float, optional
        L2 penalty ``>= 0`` of the optimiser (default 0).
    readout : "he", "lecun" or float, optional
        Initial variance of the readout's weights: ``2 / N_L`` (default), ``1 / N_L`` or the number given
        (:func:`readout_layer`; the readout has no bias).
    pretrain : None, "rank" or "rank_rescaled", optional
        ``"rank"``: before training, each seed's hidden weights go through the rank-increasing pre-training
        of Daneshmand et al. (2020, §4), :func:`sigdist.pretraining.maximize_rank_bound`, on the first
        mini-batch (it sees ``phi(W H)`` only: biases, batch norm and skips are not part of its objective).
        It does not keep the signal's scale: for He relu networks of width 128 on digits the batch's
        squared activation norm shrinks by about 0.6 per layer, so a deep network's initial outputs are
        near 0. ``"rank_rescaled"`` then multiplies each pre-trained layer by the factor that restores the
        batch's mean squared activation norm of the network before pre-training, layer by layer (for a
        positively homogeneous activation ``r(H_l)`` is unchanged): the rank is pre-trained, the scale is
        He's. Both need a plain Network with one activation and no skip connections.
    device : {"auto", "cpu", "cuda", "cuda:k"}, optional
        ``"auto"``: CUDA when present. Seed ``r``'s parameters are drawn on this device.
    dtype : {"float64", "float32"}, optional
        Precision of training (default float64; float32 is faster on a GPU).
    data_seed : int, optional
        Seed of the mini-batch order (default 0).
    progress : bool or None, optional
        Progress bar on stderr (``None``: once the training has run 2 s).

    Returns
    -------
    TrainingResult
        Learning curves ``(R, T)``, divergence, and :meth:`TrainingResult.summary` (mean and t-interval
        across seeds).

    Raises
    ------
    ValueError
        Before any work, for a bad setting (named, with its valid range) or data that do not fit the
        network.

    Notes
    -----
    A seed whose mini-batch loss is non-finite at step ``t`` is marked diverged at ``t``: that step's
    update is not applied to it, its parameters stay frozen from then on, and the other seeds go on
    unaffected (each network's computation is its own slice of the stacked tensors). An interrupt
    (Ctrl-C) ends training early and returns the curves evaluated so far, with ``completed=False`` and a
    warning.

    Examples
    --------
    >>> from sigdist import Network
    >>> from sigdist.training import gaussian_mixture, train_population
    >>> data = gaussian_mixture(4, separation=4.0, n_train=64, n_test=64)
    >>> result = train_population(Network.he([4, 8]), data, seeds=3, lr=0.1, steps=20, eval_every=10,
    ...                           batch_size=16, device="cpu", progress=False)
    >>> result.test_accuracy.shape, result.steps.tolist()
    ((3, 3), [0, 10, 20])
    """
    # -- checks, before any work
    network = as_network(network, residual=True)
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a sigdist.training.Dataset (load_digits(), teacher_task(...), "
                         f"Dataset(x_train, y_train, x_test, y_test)), got {type(data).__name__}")
    if network.input_width != data.input_width:
        raise ValueError(f"data has {data.input_width} features, the network's input_width is "
                         f"{network.input_width}: they must be equal")
    seeds = _check_seeds(seeds)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    lr = check_positive(lr, "lr")
    momentum = check_finite(momentum, "momentum", " in [0, 1)")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
    if optimizer == "adam" and momentum != 0:
        raise ValueError("momentum must be 0 with optimizer='adam' (Adam's betas play its part)")
    steps = check_integer(steps, "steps")
    factor = schedule_factor(schedule, steps)
    factors = [_check_factor(factor(t), t) for t in range(steps)]  # a bad factor stops nothing half-way
    batch_size = check_integer(batch_size, "batch_size")
    if batch_size > data.n_train:
        raise ValueError(f"batch_size must be in [1, n_train] = [1, {data.n_train}], got {batch_size}")
    eval_every = check_integer(eval_every, "eval_every")
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    if pretrain not in PRETRAININGS:
        raise ValueError(f"pretrain must be None, 'rank' or 'rank_rescaled', got {pretrain!r}")
    layout = _layout(network)
    if pretrain is not None and (isinstance(network, ResidualNetwork) or any(layer.residual for layer in network)
                                 or len({layer.activation for layer in network}) != 1):
        raise ValueError(f"pretrain={pretrain!r} needs a plain Network with one activation and no skip connections")
    if pretrain == "rank_rescaled" and not network.layers[0].activation.homogeneous:
        raise ValueError("pretrain='rank_rescaled' needs a positively homogeneous activation (relu, leaky_relu, "
                         f"linear, abs), got {network.layers[0].activation.name!r}")
    for i, (layer, _, _) in enumerate(layout):
        if layer.activation.torch_phi is None:
            raise ValueError(f"layer {i + 1}'s activation {layer.activation.name!r} has no torch form, so no gradient "
                             "flows through it: give Activation(name, phi, torch_phi=...) to train it")
    head = readout_layer(readout, layout[-1][0].width, data.n_classes)
    dev = resolve_device(device)
    dt = _check_dtype(dtype)
    check_seed(data_seed, "data_seed")
    progress = check_progress(progress)

    # -- the population
    epochs = _epochs(data.n_train, batch_size, data_seed)
    epoch = next(epochs)
    x_train = torch.as_tensor(data.x_train.copy(), dtype=dt, device=dev)
    y_train = torch.as_tensor(data.y_train.copy(), device=dev)
    x_test = torch.as_tensor(data.x_test.copy(), dtype=dt, device=dev)
    y_test = torch.as_tensor(data.y_test.copy(), device=dev)
    drawn = _draw(layout, head, seeds, dev)
    if pretrain is not None:
        x0 = torch.as_tensor(data.x_train[epoch[0]], dtype=torch.float64, device=dev)
        _pretrain_rank(layout, drawn, x0, rescale=pretrain == "rank_rescaled")
    params = [(w.to(dt).requires_grad_(True), None if b is None else b.to(dt).requires_grad_(True)) for w, b in drawn]
    flat = [p for pair in params for p in pair if p is not None]
    opt = (torch.optim.SGD(flat, lr=lr, momentum=momentum, weight_decay=weight_decay) if optimizer == "sgd"
           else torch.optim.Adam(flat, lr=lr, weight_decay=weight_decay))
    n_seeds = len(seeds)
    widest = max([data.input_width] + [layer.width for layer, _, _ in layout])
    chunk = max(1, int(_EVAL_MEMORY // (4 * widest * max(data.n_train, data.n_test) * dt.itemsize)))

    curves = {"steps": [], "loss": [], "train_accuracy": [], "test_loss": [], "test_accuracy": []}

    def evaluate(step):
        loss, acc = _evaluate(layout, params, x_train, y_train, chunk)
        test_loss, test_acc = _evaluate(layout, params, x_test, y_test, chunk)
        for key, value in (("loss", loss), ("train_accuracy", acc), ("test_loss", test_loss),
                           ("test_accuracy", test_acc)):
            curves[key].append(value)
        curves["steps"].append(step)  # last: a curve is complete when its step is recorded

    guard = _Divergence(flat, n_seeds, dev)
    completed = True
    step = 0
    try:
        with progress_bar(steps, f"training {n_seeds} networks", progress, unit="step") as bar:
            for step in range(steps):
                if step % eval_every == 0:
                    evaluate(step)
                for group in opt.param_groups:
                    group["lr"] = lr * factors[step]
                k = step % len(epoch)
                if k == 0:  # one copy to the device per epoch
                    epoch_on_device = torch.as_tensor(epoch if step == 0 else next(epochs), device=dev)
                index = epoch_on_device[k]
                opt.zero_grad()
                losses = _per_seed_loss(_forward(layout, params, x_train[index]), y_train[index])
                guard.check(losses, step).backward()
                guard.before_update()
                opt.step()
                guard.after_update()
                bar.update(1)
            step = steps
            evaluate(steps)
    except KeyboardInterrupt:
        completed = False
        warnings.warn(f"training interrupted at step {step} of {steps}: the result holds the curves evaluated "
                      "so far (completed=False)", SigdistWarning, stacklevel=2)
    done = len(curves["steps"])
    arrays = {k: np.stack(v[:done], axis=1) if done else np.empty((n_seeds, 0))
              for k, v in curves.items() if k != "steps"}
    diverged_step = guard.step_of.cpu().numpy()
    diverged = diverged_step >= 0
    return TrainingResult(np.asarray(curves["steps"], dtype=np.int64), arrays["loss"], arrays["train_accuracy"],
                          arrays["test_loss"], arrays["test_accuracy"], diverged, diverged_step,
                          np.asarray(seeds, dtype=np.int64), completed, repr(network), repr(data), optimizer, lr,
                          batch_size, str(dev), str(dt).replace("torch.", ""))
