r"""Two inputs through a whole network: samples of their pair state by the exact reduced sampler (B&D Prop. 2, §3).

Given ``(|x1|^2, |x2|^2, <x1, x2>)`` of a layer, the next layer's pre-activations are ``N``
i.i.d. pairs :math:`N(0, V)`, :math:`V = \sigma_w^2 G + \sigma_b^2` (eq. 4), so each layer costs
``2N`` normals per drawn network, with no approximation (:func:`pair_samples`). Networks with
parameter sharing reduce to a linear network of half width (:func:`shared_pair_samples`).
The result, :class:`PairSamples`, holds the samples per network and layer, their means with
standard errors, and gives the empirical law of a layer's cosine or scalar product.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import check_integer
from .empirical import EmpiricalLaw
from ._random import numpy_generator
from ._result import Result
from .network import as_network
from .pair_moments import check_pair_inputs

__all__ = ["PairSamples", "pair_samples", "shared_pair_samples"]


def _mean_se(values):
    """Per-layer mean over the finite samples and its standard error (NaN where a layer has none)."""
    ok = np.isfinite(values)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # a layer without a defined value: NaN, documented
        mean = np.nansum(np.where(ok, values, 0.0), axis=0) / n
        var = np.nansum(np.where(ok, (values - mean) ** 2, 0.0), axis=0) / np.maximum(n - 1, 1)
        return mean, np.sqrt(var / n)


@dataclass(frozen=True, repr=False)
class PairSamples(Result):
    """Samples of two inputs' pair state per drawn network and layer (from :func:`pair_samples`).

    Parameters
    ----------
    y1, y2, y12 : ndarray, shape (n_networks, depth)
        ``|x1^(l)|^2``, ``|x2^(l)|^2`` and ``<x1^(l), x2^(l)>`` per network and layer.
    signal : PairSamples or None
        For :func:`shared_pair_samples`: the pair state of the signal ``h`` (None otherwise).

    Attributes
    ----------
    cosines : ndarray, shape (n_networks, depth)
        ``y12 / sqrt(y1 y2)``; NaN where a signal is exactly 0 (relu: every unit inactive).
    cosine_mean, cosine_mean_se : ndarray, shape (depth,)
        Per-layer mean cosine over the networks where it is defined, and its standard error
        (NaN at a layer where no network has both signals nonzero).
    y12_mean, y12_mean_se : ndarray, shape (depth,)
        Per-layer mean scalar product and its standard error.
    """

    y1: np.ndarray
    y2: np.ndarray
    y12: np.ndarray
    signal: "PairSamples | None" = None
    cosines: np.ndarray = field(init=False)
    cosine_mean: np.ndarray = field(init=False)
    cosine_mean_se: np.ndarray = field(init=False)
    y12_mean: np.ndarray = field(init=False)
    y12_mean_se: np.ndarray = field(init=False)

    _dims = {"y1": ("network", "layer"), "y2": ("network", "layer"), "y12": ("network", "layer"),
             "cosines": ("network", "layer"), "cosine_mean": ("layer",), "cosine_mean_se": ("layer",),
             "y12_mean": ("layer",), "y12_mean_se": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, self.depth + 1)}

    def __post_init__(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            cosines = self.y12 / np.sqrt(self.y1 * self.y2)
        object.__setattr__(self, "cosines", cosines)
        for name, values in (("cosine", cosines), ("y12", self.y12)):
            mean, se = _mean_se(values)
            object.__setattr__(self, f"{name}_mean", mean)
            object.__setattr__(self, f"{name}_mean_se", se)

    @property
    def n_networks(self) -> int:
        """Number of drawn networks."""
        return self.y1.shape[0]

    @property
    def depth(self) -> int:
        """Number of layers."""
        return self.y1.shape[1]

    def _column(self, values, layer):
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= self.depth:
            raise ValueError(f"layer must be an integer in [1, {self.depth}] (a layer's index), got {layer!r}")
        column = values[:, int(layer) - 1]
        return column[np.isfinite(column)]

    def cosine_law(self, layer):
        """Empirical law of the cosine at ``layer`` (``1..depth``), over the networks where it is defined."""
        return EmpiricalLaw(self._column(self.cosines, layer), label=f"cosine at layer {layer}")

    def y12_law(self, layer):
        """Empirical law of the scalar product ``<x1, x2>`` at ``layer`` (``1..depth``)."""
        return EmpiricalLaw(self._column(self.y12, layer), label=f"<x1, x2> at layer {layer}")


def _check_counts(y1, y2, y12, n_networks):
    y1, y2, y12 = check_pair_inputs(y1, y2, y12)
    check_integer(n_networks, "n_networks", 2)
    return y1, y2, y12


def correlated_pair(v11, v22, v12, g1, g2):
    """``(h1, h2)`` with covariance ``V`` (per network) from independent ``g1``, ``g2`` (rows = networks)."""
    s1 = np.sqrt(v11)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(s1 > 0, v12 / np.where(s1 > 0, s1, 1.0), 0.0)
    rest = np.sqrt(np.maximum(v22 - slope**2, 0.0))
    return s1[:, None] * g1, slope[:, None] * g1 + rest[:, None] * g2


def pair_samples(network, y1, y2, y12, *, n_networks=100_000, seed=None, chunk=20_000):
    r"""Propagate two inputs' pair state through ``n_networks`` random networks by the exact reduced sampler (Prop. 2).

    Given ``(|x1|^2, |x2|^2, <x1, x2>)`` of a layer, the next layer's pre-activations are
    ``N`` i.i.d. pairs :math:`N(0, V)`, :math:`V = \sigma_w^2 G + \sigma_b^2` (eq. 4), so each
    layer costs ``2N`` normals per network, with no approximation. Any activation: each layer applies
    ``layer.activation`` (its numpy form, refusing NaN or inf at a finite input by the activation's name).

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes; i.i.d. Gaussian layers.
    y1, y2, y12 : float
        The inputs' ``|x1|^2``, ``|x2|^2`` and ``<x1, x2>``.
    n_networks : int, optional
        Number of independently drawn networks (``>= 2``).
    seed : optional
        Any seed sigdist takes (int, ``SeedSequence``, numpy ``Generator``, ``torch.Generator``).
    chunk : int, optional
        Networks drawn at once (memory ``~ 2 chunk N`` floats).

    Returns
    -------
    PairSamples
        Samples per network and layer, with means and standard errors of cosines and scalar products.
    """

    network = as_network(network)
    for layer in network:
        if not layer.is_gaussian_iid:
            raise ValueError("network must have i.i.d. Gaussian layers here (use sigdist.montecarlo.simulate "
                             "otherwise, or shared_pair_samples for parameter sharing)")
    a0, b0, c0 = _check_counts(y1, y2, y12, n_networks)
    first = network[0]
    if first.sigma_b2 == 0 and float(first.activation.checked(np.zeros(1))[0]) == 0:
        for value, name in ((a0, "y1"), (b0, "y2")):
            if value == 0:  # the signal stays 0 through a layer without bias and phi(0) = 0: every cosine is 0/0
                raise ValueError(f"{name} must be > 0 when the first layer has sigma_b2 = 0 and phi(0) = 0 (a zero "
                                 f"signal stays zero and its cosine is undefined), got {value!r}")
    check_integer(chunk, "chunk")
    rng = numpy_generator(seed)
    depth = network.depth
    out = [np.empty((n_networks, depth)) for _ in range(3)]
    for start in range(0, n_networks, chunk):
        m = min(chunk, n_networks - start)
        a, b, c = np.full(m, a0), np.full(m, b0), np.full(m, c0)
        for l, layer in enumerate(network):
            v11 = layer.sigma_w2 * a + layer.sigma_b2
            v22 = layer.sigma_w2 * b + layer.sigma_b2
            v12 = layer.sigma_w2 * c + layer.sigma_b2
            g = rng.standard_normal((2, m, layer.width))
            h1, h2 = correlated_pair(v11, v22, v12, g[0], g[1])
            x1, x2 = layer.activation.checked(h1), layer.activation.checked(h2)
            a, b, c = (x1 * x1).sum(1), (x2 * x2).sum(1), (x1 * x2).sum(1)
            out[0][start:start + m, l], out[1][start:start + m, l], out[2][start:start + m, l] = a, b, c
    return PairSamples(*out)


def shared_pair_samples(network, y1, y2, y12, *, n_networks=100_000, seed=None):
    r"""Pair samples of a GSM or looks-linear network through its reduction to a linear network of half width (§3).

    With ``W = [[W0, -W0], [-W0, W0]]`` and ``x = [a; b]``, a layer's pre-activations are
    ``[W0 d; -W0 d]`` with ``d = a - b``, so ``x' = [relu(h); relu(-h)]`` with ``h = W0 d``, the next
    ``d`` is ``h`` itself, and ``|x'|^2 = |h|^2``, ``<x1', x2'> = sum_i h1_i h2_i 1{h1_i h2_i > 0}``.
    The signal ``h`` follows the *linear* network ``h_l = W0_l h_{l-1}`` of half widths. GSM: ``W0``
    Gaussian, so the Gram matrix of ``(h1, h2)`` is a Wishart chain (sampled exactly, 2 N/2 normals
    per layer). Looks-linear (square ``W0``, ``sigma_w2 = 1``): ``W0`` is orthogonal, the Gram matrix
    of ``h`` is preserved exactly, and ``(W0 h1, W0 h2)`` is a uniformly random frame with that Gram matrix.

    Parameters
    ----------
    network : Network or anything :func:`sigdist.as_network` takes
        Every layer with ``sharing="gsm"``, or every layer ``"looks_linear"``.
    y1, y2, y12 : float
        ``|d1|^2``, ``|d2|^2``, ``<d1, d2>`` of the inputs' differences ``d = x[:N0/2] - x[N0/2:]``.
    n_networks : int, optional
        Number of independently drawn networks (``>= 2``).
    seed : optional
        Any seed sigdist takes.

    Returns
    -------
    PairSamples
        The samples of ``|x_l|^2`` (equal to ``|h_l|^2``), ``<x1, x2>`` and the cosine of ``x`` per layer;
        the signal's own state is in the field ``signal`` (a PairSamples of ``h``).
    """

    network = as_network(network)
    schemes = {layer.sharing for layer in network}
    if schemes not in ({"gsm"}, {"looks_linear"}):
        raise ValueError(f"every layer must share parameters the same way ('gsm' or 'looks_linear'), got {schemes}")
    a0, b0, c0 = _check_counts(y1, y2, y12, n_networks)
    for value, name in ((a0, "y1"), (b0, "y2")):
        if value == 0:  # h_l = W0_l h_{l-1} stays 0: every cosine would be 0/0
            raise ValueError(f"{name} must be > 0 (a zero signal stays zero and its cosine is undefined), "
                             f"got {value!r}")
    orthogonal = schemes == {"looks_linear"}
    rng = numpy_generator(seed)
    depth = network.depth
    x_state = [np.empty((n_networks, depth)) for _ in range(3)]
    h_state = [np.empty((n_networks, depth)) for _ in range(3)]
    a, b, c = np.full(n_networks, a0), np.full(n_networks, b0), np.full(n_networks, c0)
    for l, layer in enumerate(network):
        half = layer.width // 2
        g = rng.standard_normal((2, n_networks, half))
        if orthogonal:
            # a uniformly random orthonormal pair (q1, q2), then h' = W0 h keeps the Gram matrix times sigma_w2
            q1 = g[0] / np.linalg.norm(g[0], axis=1, keepdims=True)
            r = g[1] - (g[1] * q1).sum(1, keepdims=True) * q1
            q2 = r / np.linalg.norm(r, axis=1, keepdims=True)
        else:
            q1, q2 = g[0], g[1]
        h1, h2 = correlated_pair(layer.sigma_w2 * a, layer.sigma_w2 * b, layer.sigma_w2 * c, q1, q2)
        prod = h1 * h2
        a, b, c = (h1 * h1).sum(1), (h2 * h2).sum(1), prod.sum(1)
        h_state[0][:, l], h_state[1][:, l], h_state[2][:, l] = a, b, c
        x_state[0][:, l], x_state[1][:, l], x_state[2][:, l] = a, b, np.maximum(prod, 0.0).sum(1)
    return PairSamples(*x_state, signal=PairSamples(*h_state))
