r"""Sequential Monte Carlo for heavy-tailed moments of ``|x_l|^2`` on the exact reduced chain.

Naive Monte Carlo of :math:`E[z_L^p]` in a deep, narrow network fails: the
moment is carried by rare runs of large ``z`` (for He nets
:math:`E[z_L^2] = \prod (1 + 5/N_l)` while the typical :math:`z_L^2` shrinks).
The estimator here is the Feynman-Kac particle approximation with potentials
:math:`G_l = w(z_l) / w(z_{l-1})`, :math:`w(z) = (z + c)^p`, and multinomial
resampling after every layer. With :math:`\prod_l G_l = w(z_L) / w(z_0)`,

.. math:: E[z_L^p] = w(z_0)\, E\Big[\prod_{l} G_l \; \frac{z_L^p}{w(z_L)}\Big],

and the particle estimate of the right side, :math:`\prod_{j<l} \bar G_j \cdot
\overline{G_l z_l^p / w(z_l)}`, is unbiased (Del Moral 2004). Particles follow
the chain :math:`z_l = \sum_{i \le N_l} \phi(\sqrt{s}\, g_i)^2`,
:math:`s = \sigma_w^2 z_{l-1} + \sigma_b^2` (exact in law for i.i.d. Gaussian
layers). The standard error comes from independent replicate runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import check_input_norm, check_integer, check_positive
from .._progress import check_progress, progress_bar
from .._random import numpy_generator
from .._result import Result
from ..network import as_network, require_gaussian_iid

__all__ = ["SMCResult", "smc_moment"]


@dataclass(frozen=True, repr=False, eq=False)
class SMCResult(Result):
    """Per-layer estimates of ``E[z_l^power]`` (``l = 1..L``) with standard errors over replicates.

    Attributes
    ----------
    estimate : ndarray, shape (L,)
        The mean of the replicate estimates (dims ``layer``).
    estimate_se : ndarray, shape (L,)
        Its standard error: the replicates' standard deviation over ``sqrt(n_replicates)``.
    replicates : ndarray, shape (n_replicates, L)
        The independent replicate estimates (dims ``replicate, layer``).
    power : float
        ``p``.
    """

    estimate: np.ndarray
    estimate_se: np.ndarray
    replicates: np.ndarray
    power: float

    _dims = {"estimate": ("layer",), "estimate_se": ("layer",), "replicates": ("replicate", "layer")}
    _coords = {"layer": lambda self: np.arange(1, self.estimate.size + 1)}


def smc_moment(network, y0=1.0, power=2.0, *, n_networks=10_000, n_replicates=16, seed=None, progress=None):
    """Estimate ``E[|x_l|^(2 power)] = E[z_l^power]`` for every layer by sequential Monte Carlo.

    Parameters
    ----------
    network : Network, Layer, list of Layer or list of widths
        Anything :func:`sigdist.as_network` takes; i.i.d. Gaussian layers, any activation.
    y0 : float
        ``|x_0|^2``.
    power : float
        ``p > 0``.
    n_networks : int
        Particles per replicate (each particle is one network's chain ``z_1, ..., z_L``).
    n_replicates : int
        Independent runs (``>= 2``): their spread gives ``estimate_se``.
    seed : None, int, numpy SeedSequence or Generator, or torch.Generator
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s, ``True`` at once,
        ``False`` never.

    Returns
    -------
    SMCResult
    """
    network = as_network(network)
    for layer in network:
        require_gaussian_iid(layer)
    y0 = check_input_norm(y0, "y0")
    power = check_positive(power, "power")
    n_networks = check_integer(n_networks, "n_networks")
    n_replicates = check_integer(n_replicates, "n_replicates", 2)
    progress = check_progress(progress)
    rng = numpy_generator(seed)
    # c > 0 keeps w(z) > 0 where the chain can return from z = 0 (sigma_b > 0)
    c = 0.0 if all(layer.sigma_b2 == 0 for layer in network) else min(
        l.sigma_b2 * l.width for l in network if l.sigma_b2 > 0)
    if y0 + c == 0:
        return SMCResult(np.zeros(network.depth), np.zeros(network.depth), np.zeros((n_replicates, network.depth)),
                         power)
    reps = []
    with progress_bar(n_replicates, "sequential Monte Carlo", progress, unit="replicate") as bar:
        for _ in range(n_replicates):
            reps.append(_one_run(network, y0, power, c, n_networks, rng))
            bar.update()
    reps = np.array(reps)
    return SMCResult(reps.mean(axis=0), reps.std(axis=0, ddof=1) / math.sqrt(n_replicates), reps, power)


def _one_run(network, y0, p, c, n, rng):
    z = np.full(n, y0)
    log_norm = p * math.log(y0 + c)  # log w(z_0) + sum of log mean potentials so far
    out = np.empty(network.depth)
    for l, layer in enumerate(network):
        s = layer.sigma_w2 * z + layer.sigma_b2
        g = rng.standard_normal((n, layer.width))
        z_new = np.sum(layer.activation.checked(np.sqrt(s)[:, None] * g) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            # potentials in logs: the ratios can span hundreds of orders of magnitude
            log_g = p * (np.log(z_new + c) - np.log(z + c))
        log_g = np.where(np.isnan(log_g), -np.inf, log_g)
        top = np.max(log_g)
        if not np.isfinite(top):  # every particle died (all at 0 with sigma_b = 0)
            out[l:] = 0.0
            return out
        weights = np.exp(log_g - top)
        mean_w = weights.mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(z_new > 0, np.exp(p * (np.log(z_new) - np.log(z_new + c))), 0.0)
        out[l] = math.exp(log_norm + top) * np.mean(weights * ratio)
        log_norm += top + math.log(mean_w)
        idx = rng.choice(n, size=n, p=weights / weights.sum())
        z = z_new[idx]
    return out
