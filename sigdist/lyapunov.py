r"""Lyapunov spectra of products of random matrices: rank collapse without batch norm (Daneshmand et al. 2020, Lemma 3).

A linear network of identical layers without batch norm maps :math:`X` to :math:`B_\ell X`,
:math:`B_\ell = \prod_{j \le \ell} \hat W_j`, :math:`\hat W = I + \gamma W` (``gamma = inf``:
:math:`\hat W = W`). The Lyapunov exponents :math:`\mu_1 \ge \mu_2 \ge \dots` are the growth rates
:math:`\frac1\ell \ln \sigma_i(B_\ell)`; the gap :math:`\mu_1 - \mu_2 > 0` is the rate at which
:math:`B_\ell X / \|B_\ell\|` collapses to rank one: :math:`\sigma_2/\sigma_1 \approx e^{-(\mu_1 - \mu_2)\ell}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

from ._checks import check_integer
from ._progress import check_progress, progress_bar
from ._rank_checks import identical_layer
from ._random import numpy_generator
from ._result import Result
from .batchnorm import residual_apply
from .network import Network

__all__ = ["LyapunovResult", "gaussian_lyapunov_exponents", "lyapunov_spectrum"]


def gaussian_lyapunov_exponents(network):
    r"""Lyapunov exponents of products of ``width x width`` matrices with i.i.d. N(0, sigma_w2) entries (closed form).

    .. math:: \mu_i = \tfrac12\big[\ln 2 + \psi\big(\tfrac{d - i + 1}{2}\big)\big] + \tfrac12 \ln \sigma_w^2,
              \quad i = 1..d,

    since in the QR (Benettin) recursion :math:`R_{ii}^2 / \sigma_w^2 \sim \chi^2_{d-i+1}` independently at
    every step (Newman 1986; Forrester 2013 for the complex case).

    Parameters
    ----------
    network : Network, Layer or list of Layers
        Identical linear layers without batch norm or skip connection, with Gaussian weights.

    Returns
    -------
    ndarray, shape (width,)
        Decreasing.
    """
    _, layer = identical_layer(network, "network", batch_norm=False, min_width=1)
    if layer.weight_law.name != "gaussian" or layer.residual:
        raise ValueError(f"network must have Gaussian weights and no skip connection for the closed form, got "
                         f"weight_law={layer.weight_law.name!r}, gamma={layer.gamma} (use lyapunov_spectrum)")
    d = layer.width
    return 0.5 * (math.log(2.0) + digamma((d - np.arange(1, d + 1) + 1) / 2.0)) + 0.5 * math.log(layer.sigma_w2)


@dataclass(frozen=True, eq=False, repr=False)
class LyapunovResult(Result):
    """Leading Lyapunov exponents of a product of random matrices, estimated by batched QR.

    Attributes
    ----------
    exponents, exponents_se : ndarray, shape (k,)
        The exponents (decreasing) and their standard errors over independent products.
    samples : ndarray, shape (n_networks, k)
        Each product's own estimate.
    network : Network
        The layer whose matrices are multiplied (depth 1).
    n_steps : int
        Factors averaged (after the burn-in).
    """

    exponents: np.ndarray
    exponents_se: np.ndarray
    samples: np.ndarray
    network: Network
    n_steps: int

    _dims = {"exponents": ("eigen",), "exponents_se": ("eigen",), "samples": ("network", "eigen")}
    _coords = {"eigen": lambda self: np.arange(1, self.exponents.size + 1)}


def lyapunov_spectrum(network, n_steps, *, k=None, n_networks=16, burn_in=0, seed=None, progress=None):
    r"""Lyapunov spectrum of :math:`B_\ell = \prod_{j \le \ell} \hat W_j` by batched QR (Benettin).

    :math:`\hat W = I + \gamma W` (``gamma = inf``: :math:`\hat W = W`), ``W = sqrt(sigma_w2) u`` with ``u``
    i.i.d. from the layer's weight law. Each of ``n_networks`` independent products iterates
    :math:`Q_{j} R_j = \hat W_j Q_{j-1}` on ``k`` orthonormal columns and estimates
    :math:`\mu_i = \frac1\ell \sum_j \ln |(R_j)_{ii}|`; the standard error is the spread over products.

    Parameters
    ----------
    network : Network, Layer or list of Layers
        Identical linear layers without batch norm (their width, ``gamma``, ``sigma_w2``, ``weight_law``).
        The depth is not read: ``n_steps`` factors are multiplied.
    n_steps : int >= 1
        Factors averaged (after ``burn_in`` discarded ones).
    k : int, optional
        Leading exponents to compute (default all ``width``).
    n_networks : int >= 2
        Independent products.
    burn_in : int >= 0
    seed : None, int, SeedSequence, numpy or torch Generator
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s, ``True`` at once,
        ``False`` never.

    Returns
    -------
    LyapunovResult

    References
    ----------
    Daneshmand et al. (2020), Lemma 3; Benettin et al. (1980).
    """
    network, layer = identical_layer(network, "network", batch_norm=False, min_width=1)
    d = layer.width
    n_steps = check_integer(n_steps, "n_steps", 1)
    burn_in = check_integer(burn_in, "burn_in", 0)
    n_networks = check_integer(n_networks, "n_networks", 2)
    k = d if k is None else check_integer(k, "k", 1)
    if k > d:
        raise ValueError(f"k must be <= the width {d}, got {k}")
    progress = check_progress(progress)
    rng = numpy_generator(seed)
    scale = math.sqrt(layer.sigma_w2)
    Q = np.broadcast_to(np.eye(d)[:, :k], (n_networks, d, k)).copy()
    logs = np.zeros((n_networks, k))
    with progress_bar(burn_in + n_steps, "Lyapunov spectrum", progress, unit="step") as bar:
        for step in range(burn_in + n_steps):
            W = layer.weight_law.sample(rng, (n_networks, d, d))
            if scale != 1.0:
                W *= scale
            Q, R = np.linalg.qr(residual_apply(W, Q, layer.gamma))
            if step >= burn_in:
                logs += np.log(np.abs(np.diagonal(R, axis1=-2, axis2=-1)))
            bar.update()
    samples = logs / n_steps
    return LyapunovResult(exponents=samples.mean(0), exponents_se=samples.std(0, ddof=1) / math.sqrt(n_networks),
                          samples=samples, network=Network([layer], input_width=d), n_steps=n_steps)
