r"""What each paper says predicts trainability, computed by sigdist at initialisation (issue 19).

Three statistics of the random network before any step of training, one per paper, each beside the
outcome that :func:`sigdist.training.train_population` measures (``validation/train_*.py``):

* **Burkholz & Dubatovka (2019)**, §3-4, Fig. 3: deep He relu networks push two inputs' cosine towards 1
  and spread the law of :math:`|x_L|^2`; GSM and looks-linear (orthogonal) parameter sharing do neither.
  :func:`cosine_prediction`: the mean cosine of two inputs at depth ``L`` (exact pair chain, Prop. 2,
  beside the mean-field c-map), the atom :math:`P(|x_L|^2 = 0)` and quantiles of the law of
  :math:`|x_L|^2 / |x_0|^2` (:func:`sigdist.squared_norm_law`).
* **Daneshmand et al. (2020)**, Thm. 2, Fig. 1, 4: the rank bound :math:`r(H)` (eq. 4) of the hidden
  representations of a batch collapses with depth without batch norm and stays of order
  :math:`\sqrt{d}` with it; rank pre-training restores it. :func:`rank_prediction`.
* **Hanin & Rolnick (2018)**, Thm. 1, 5, Cor. 1, 2, Fig. 1-3: :math:`E[M_d]` away from :math:`M_0`
  (FM1: the weight variance) and a large :math:`\mathrm{Var}[M_d]`, :math:`\sum_j 1/n_j` (FM2: narrow
  layers), or :math:`E[M^{res}_L]` of residual nets (their scales :math:`\eta_\ell`) slow the start of
  training. :func:`length_prediction`.

:func:`correlation` is the number each experiment reports: Pearson's and Spearman's correlation between a
predicted statistic and the measured outcome across configurations, with confidence intervals (Fisher's
z for Pearson, a seeded bootstrap for Spearman). Pure numerics: no torch (except rank pre-training, which
differentiates :math:`r(H)` by autograd), no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import check_integer
from .._random import numpy_generator
from .._result import Result
from ..correlation import mean_field_cosines, pair_samples, shared_pair_samples
from ..lengths import length_moments
from ..network import Network, ResidualNetwork, as_network
from ..propagation import squared_norm_law
from ..rank_profile import hidden_rank_profile
from ..residual_lengths import residual_length_moments

__all__ = ["CosinePrediction", "RankPrediction", "LengthPrediction", "Correlation", "cosine_prediction",
           "rank_prediction", "length_prediction", "input_cosine", "correlation", "sharing_scheme"]

QUANTILE_LEVELS = (0.05, 0.5, 0.95)


def sharing_scheme(network) -> str:
    """``"none"``, ``"gsm"`` or ``"looks_linear"``: the one sharing scheme of every layer (``ValueError`` if mixed)."""
    schemes = {layer.sharing for layer in as_network(network)}
    if len(schemes) != 1:
        raise ValueError(f"network must share parameters the same way in every layer, got {sorted(schemes)}")
    return schemes.pop()


def input_cosine(x, *, sharing="none", n_pairs=2000, seed=0) -> float:
    r"""The mean cosine of random pairs of distinct inputs (rows of ``x``), as the first layer reads them.

    Without sharing the first layer reads :math:`x`; with GSM or looks-linear sharing only
    :math:`d = a - b` of :math:`x = [a; b]` (Burkholz & Dubatovka §3), so the cosine is that of the ``d``.
    Pairs whose signal is zero are skipped.

    Parameters
    ----------
    x : array_like, shape (n, input_width)
        At least two rows, finite.
    sharing : {"none", "gsm", "looks_linear"}
    n_pairs : int >= 1
    seed : any seed sigdist takes

    Examples
    --------
    >>> import numpy as np
    >>> round(input_cosine(np.array([[1.0, 0.0], [1.0, 1.0]]), n_pairs=10), 6)
    0.707107
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite 2-D array with at least two rows, got shape {x.shape}")
    if sharing not in ("none", "gsm", "looks_linear"):
        raise ValueError(f"sharing must be 'none', 'gsm' or 'looks_linear', got {sharing!r}")
    if sharing != "none":
        if x.shape[1] % 2:
            raise ValueError(f"x must have an even number of columns with sharing={sharing!r}, got {x.shape[1]}")
        half = x.shape[1] // 2
        x = x[:, :half] - x[:, half:]
    n_pairs = check_integer(n_pairs, "n_pairs")
    rng = numpy_generator(seed)
    i = rng.integers(0, x.shape[0], n_pairs)
    j = (i + rng.integers(1, x.shape[0], n_pairs)) % x.shape[0]  # never i itself
    norms = np.linalg.norm(x, axis=1)
    keep = (norms[i] > 0) & (norms[j] > 0)
    if not np.any(keep):
        raise ValueError("x must have rows that are not zero (as the first layer reads them)")
    i, j = i[keep], j[keep]
    return float(np.mean(np.einsum("ij,ij->i", x[i], x[j]) / (norms[i] * norms[j])))


@dataclass(frozen=True, repr=False)
class CosinePrediction(Result):
    r"""Burkholz & Dubatovka's statistics at initialisation (:func:`cosine_prediction`).

    Attributes
    ----------
    cosine_mean, cosine_mean_se : ndarray, shape (L,)
        Mean cosine of two inputs at layers ``1..L`` over ``n_networks`` draws of the exact pair chain,
        and its standard error.
    mean_field_cosine : ndarray, shape (L,)
        The infinite-width c-map iterated (NaN for sharing: the signal ``h`` is linear there).
    output_atom : float
        :math:`P(|x_L|^2 = 0)`, exact (relu: every unit of some layer inactive).
    output_quantiles : ndarray, shape (len(levels),)
        Quantiles of :math:`|x_L|^2 / |x_0|^2` at ``levels``.
    levels : ndarray
    log_spread : float
        :math:`\log(q_{hi} / q_{lo})` of the outer quantiles: 0 for a deterministic norm (looks-linear).
    input_cosine : float
    sharing : str
    method : str
        How the output law was obtained ("exact": :func:`sigdist.squared_norm_law`; GSM through
        :meth:`Network.reduced_linear`; "point mass": looks-linear, whose layers are isometries).
    """

    cosine_mean: np.ndarray
    cosine_mean_se: np.ndarray
    mean_field_cosine: np.ndarray
    output_atom: float
    output_quantiles: np.ndarray
    levels: np.ndarray
    log_spread: float
    input_cosine: float
    sharing: str
    method: str

    _dims = {"cosine_mean": ("layer",), "cosine_mean_se": ("layer",), "mean_field_cosine": ("layer",),
             "output_quantiles": ("quantity",)}
    _coords = {"layer": lambda self: np.arange(1, len(self.cosine_mean) + 1), "quantity": "levels"}

    @property
    def final_cosine(self) -> float:
        """The mean cosine at depth ``L``."""
        return float(self.cosine_mean[-1])

    @property
    def cosine_retention(self) -> float:
        r"""``(1 - E cos_L) / (1 - cos_0)``: the share of the inputs' dissimilarity left at depth ``L``."""
        return float((1.0 - self.cosine_mean[-1]) / (1.0 - self.input_cosine))


def _check_levels(levels):
    levels = np.asarray(levels, dtype=np.float64)
    if levels.ndim != 1 or levels.size < 2 or not np.all((levels > 0) & (levels < 1)) or np.any(np.diff(levels) <= 0):
        raise ValueError(f"levels must be at least two increasing probabilities in (0, 1), got {levels.tolist()}")
    return levels


def cosine_prediction(network, cos0, *, levels=QUANTILE_LEVELS, n_networks=4000, seed=0) -> CosinePrediction:
    r"""The mean cosine at depth ``L`` and the atom and spread of :math:`|x_L|^2` (Burkholz & Dubatovka §3-4).

    Two inputs of equal norm and cosine ``cos0`` (as the first layer reads them: :func:`input_cosine`)
    pass through ``n_networks`` draws of the exact pair chain (:func:`sigdist.pair_samples`, Prop. 2;
    :func:`sigdist.shared_pair_samples` for GSM and looks-linear networks). The law of
    :math:`|x_L|^2/|x_0|^2` is exact (:func:`sigdist.squared_norm_law`): for GSM that of the linear network
    of half widths it reduces to (§3); for looks-linear (layers that do not narrow) :math:`|x_L|^2 = |x_0|^2`,
    a point mass: perfect isometry.

    Parameters
    ----------
    network : Network
        Relu layers without batch norm or skip connections, one sharing scheme throughout; looks-linear
        layers must not narrow (width >= fan-in).
    cos0 : float in (-1, 1)
        The inputs' cosine.
    levels : sequence of float in (0, 1), increasing
    n_networks : int >= 2
    seed : any seed sigdist takes

    Returns
    -------
    CosinePrediction

    Examples
    --------
    >>> from sigdist import Network
    >>> p = cosine_prediction(Network.looks_linear([8, 8, 8]), 0.5, n_networks=100)
    >>> p.output_atom, p.log_spread, p.method
    (0.0, 0.0, 'point mass')
    """
    network = as_network(network)
    if isinstance(cos0, bool) or not (isinstance(cos0, (int, float, np.floating)) and -1 < cos0 < 1):
        raise ValueError(f"cos0 must be a number in (-1, 1), got {cos0!r}")
    levels = _check_levels(levels)
    n_networks = check_integer(n_networks, "n_networks", 2)
    for i, layer in enumerate(network):
        if layer.batch_norm or layer.residual or layer.activation.name != "relu":
            raise ValueError(f"network.layers[{i}] must be a relu layer without batch norm or skip connection "
                             "(the statistics of Burkholz & Dubatovka)")
    sharing = sharing_scheme(network)
    fan_in = [network.input_width or network[0].width] + network.widths[:-1]
    if sharing == "looks_linear" and any(w < f for w, f in zip(network.widths, fan_in)):
        raise ValueError("network must not narrow with looks-linear sharing here (each width >= its fan-in: an "
                         "orthogonal W0 then keeps the pair's Gram matrix, which the exact pair chain uses), got "
                         f"widths {network.widths} after input width {fan_in[0]}")
    cos0 = float(cos0)
    if sharing == "none":
        pairs = pair_samples(network, 1.0, 1.0, cos0, n_networks=n_networks, seed=seed)
        field = mean_field_cosines(network, 1.0, 1.0, cos0)
        law, method = squared_norm_law(network, 1.0), "exact"
    else:
        pairs = shared_pair_samples(network, 1.0, 1.0, cos0, n_networks=n_networks, seed=seed)
        field = np.full(network.depth, np.nan)
        if sharing == "gsm":
            law, method = squared_norm_law(network.reduced_linear(), 1.0), "exact (reduced linear network)"
        else:  # isometric layers: |x_L|^2 = |x_0|^2
            law, method = None, "point mass"
    if law is not None:
        atom = float(law.atom) if law.atom > 0 else 0.0  # never -0.0
        quantiles = np.asarray(law.ppf(levels), dtype=np.float64)
    else:
        atom, quantiles = 0.0, np.ones_like(levels)
    with np.errstate(divide="ignore"):
        spread = float(np.log(quantiles[-1]) - np.log(quantiles[0])) if quantiles[0] > 0 else math.inf
    return CosinePrediction(np.asarray(pairs.cosine_mean), np.asarray(pairs.cosine_mean_se), np.asarray(field),
                            atom, quantiles, levels, spread, cos0, sharing, method)


@dataclass(frozen=True, repr=False)
class RankPrediction(Result):
    r"""Daneshmand et al.'s statistic at initialisation (:func:`rank_prediction`).

    Attributes
    ----------
    rank_bound, rank_bound_se : ndarray, shape (L + 1,)
        Mean :math:`r(H_\ell)` (eq. 4) over ``n_networks`` networks at layers ``0..L`` (0: the batch).
    pretrained_rank_bound : ndarray, shape (L + 1,) or None
        The same after rank pre-training (:func:`sigdist.pretraining.maximize_rank_bound`), when asked.
    width : int
        The last hidden width (:math:`r(H) \le` it).
    batch : int
    """

    rank_bound: np.ndarray
    rank_bound_se: np.ndarray
    pretrained_rank_bound: np.ndarray | None
    width: int
    batch: int

    _dims = {"rank_bound": ("layer",), "rank_bound_se": ("layer",), "pretrained_rank_bound": ("layer",)}
    _coords = {"layer": lambda self: np.arange(len(self.rank_bound))}

    @property
    def final_rank(self) -> float:
        """:math:`r(H_L)`, after pre-training when it was run."""
        values = self.rank_bound if self.pretrained_rank_bound is None else self.pretrained_rank_bound
        return float(values[-1])


def rank_prediction(network, x0, *, n_networks=8, pretrain_iter=0, pretrain_lr=1e-2, seed=0) -> RankPrediction:
    r"""The rank bound :math:`r(H_\ell)` of a batch's hidden representations at initialisation (Daneshmand et al.).

    :math:`r(H) = \mathrm{Tr}(M)^2 / \|M\|_F^2`, :math:`M = H H^\top / N` (eq. 4, :func:`sigdist.rank_bound`),
    of :math:`H_\ell = \phi(\mathrm{BN}(W_\ell H_{\ell-1}))` or :math:`\phi(W_\ell H_{\ell-1})`
    (:func:`sigdist.hidden_rank_profile`) for the batch ``x0``; Theorem 2 bounds it below by
    :math:`\Omega(\sqrt{d})` with batch norm, Lemma 3 lets it collapse to 1 without. With
    ``pretrain_iter > 0`` every network is also pre-trained layer by layer (``pretrain_iter`` Adam steps
    of gradient ascent on :math:`r`, :func:`sigdist.pretraining.maximize_rank_bound`; needs torch and
    layers without batch norm) and :math:`r` recorded again.

    Parameters
    ----------
    network : Network
        Bias-free relu (or other positively homogeneous) layers, with or without ``batch_norm``.
    x0 : array_like, shape (batch, input_width)
        The batch, one input per row (as :class:`~sigdist.training.Dataset` holds them).
    n_networks : int >= 2
    pretrain_iter : int >= 0
    pretrain_lr : float > 0
    seed : any seed sigdist takes

    Returns
    -------
    RankPrediction
    """
    network = as_network(network)
    x0 = np.array(x0, dtype=np.float64)  # a writable copy: torch refuses read-only arrays (a Dataset's are)
    n0 = network.input_width if network.input_width is not None else network[0].width
    if x0.ndim != 2 or x0.shape[1] != n0 or x0.shape[0] < 2 or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be a finite array of shape (batch >= 2, input_width = {n0}), got {x0.shape}")
    n_networks = check_integer(n_networks, "n_networks", 2)
    pretrain_iter = check_integer(pretrain_iter, "pretrain_iter", 0)
    if pretrain_iter and any(layer.batch_norm or layer.residual for layer in network):
        raise ValueError("pretrain_iter must be 0 for a network with batch norm or skip connections (rank "
                         "pre-training is for vanilla networks)")
    profile = hidden_rank_profile(network, batch=x0.shape[0], n_networks=n_networks, rtol=1e-6, x0=x0.T,
                                  seed=seed, progress=False)
    pretrained = None
    if pretrain_iter:
        from ..pretraining import maximize_rank_bound

        rng = numpy_generator(seed)
        activation = network[0].activation
        rows = []
        for _ in range(n_networks):
            fan_in, weights = n0, []
            for layer in network:
                weights.append(layer.weight_law.sample(rng, (layer.width, fan_in)) * math.sqrt(layer.sigma_w2))
                fan_in = layer.width
            _, before, after = maximize_rank_bound(weights, x0.T, n_iter=pretrain_iter, lr=pretrain_lr,
                                                   activation=activation)
            rows.append(after)
        from ..rank import rank_bound

        pretrained = np.concatenate([[float(rank_bound(x0.T))], np.mean(rows, axis=0)])
    return RankPrediction(np.asarray(profile.rank_bound), np.asarray(profile.rank_bound_se), pretrained,
                          int(network[-1].width), int(x0.shape[0]))


@dataclass(frozen=True, repr=False)
class LengthPrediction(Result):
    r"""Hanin & Rolnick's statistics at initialisation (:func:`length_prediction`).

    Attributes
    ----------
    length_mean, length_variance : float
        :math:`E[M_d]`, :math:`\mathrm{Var}[M_d]` at the last layer (:math:`M^{res}_L` for a residual net).
    input_mean : float
        :math:`M_0`.
    log_mean_ratio : float
        :math:`\log(E[M_d] / M_0)`: 0 when FM1 is avoided (the He variance).
    relative_variance : float
        :math:`\mathrm{Var}[M_d] / E[M_d]^2` (for He normal :math:`\prod_j(1 + 5/n_j) - 1`, FM2).
    sum_reciprocal_widths : float
        :math:`\sum_j 1/n_j` (NaN for a residual net).
    empirical_variance : float
        :math:`E[\widehat{\mathrm{Var}}[M]]` across layers (NaN for a residual net).
    residual : bool
    """

    length_mean: float
    length_variance: float
    input_mean: float
    log_mean_ratio: float
    relative_variance: float
    sum_reciprocal_widths: float
    empirical_variance: float
    residual: bool


def length_prediction(network, x0=None) -> LengthPrediction:
    r""":math:`E[M_d]`, :math:`\mathrm{Var}[M_d]`, :math:`\sum_j 1/n_j` at initialisation (Hanin & Rolnick).

    :func:`sigdist.length_moments` (exact, any widths and weight laws, the truncated normal's kurtosis
    included) for a plain network; :func:`sigdist.residual_length_moments` for a
    :class:`~sigdist.network.ResidualNetwork` with linear read-outs (eq. 1, §3.4).

    Parameters
    ----------
    network : Network or ResidualNetwork
    x0 : array_like, shape (input_width,), optional
        An input (needed when the first layer's weights are not Gaussian); default :math:`M_0 = 1`.

    Returns
    -------
    LengthPrediction

    Examples
    --------
    >>> from sigdist import Network
    >>> p = length_prediction(Network.he([10, 10, 10]))
    >>> round(p.log_mean_ratio, 12), round(p.relative_variance, 12)   # (1 + 5/10)^2 - 1
    (0.0, 1.25)
    """
    if isinstance(network, ResidualNetwork):
        r = residual_length_moments(network, x0=x0)
        mean, var = float(r.length_mean[-1]), float(r.length_variance[-1])
        m0, srw, ev = float(r.input_mean), math.nan, math.nan
    else:
        network = as_network(network)
        if x0 is None and network.input_width is not None:
            x0 = np.ones(network.input_width)
        r = length_moments(network, x0=x0) if x0 is not None else length_moments(network)
        mean, var = float(r.length_mean[-1]), float(r.length_variance[-1])
        m0 = 1.0 if r.input_mean is None else float(r.input_mean)
        srw, ev = r.sum_reciprocal_widths, float(r.empirical_variance())
    return LengthPrediction(mean, var, m0, math.log(mean / m0), var / mean**2, srw, ev,
                            isinstance(network, ResidualNetwork))


@dataclass(frozen=True, repr=False)
class Correlation(Result):
    """Correlation between a predicted statistic and a measured outcome (:func:`correlation`).

    Attributes
    ----------
    pearson, pearson_low, pearson_high : float
        Pearson's r and its Fisher-z interval at ``level`` (NaN bounds for ``n <= 3``).
    spearman, spearman_low, spearman_high : float
        Spearman's rho and its percentile bootstrap interval (``n_boot`` resamples, seeded).
    n_pairs : int
    level : float
    """

    pearson: float
    pearson_low: float
    pearson_high: float
    spearman: float
    spearman_low: float
    spearman_high: float
    n_pairs: int
    level: float


def _ranks(a):
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


def _pearson_rows(x, y):
    x = x - x.mean(-1, keepdims=True)
    y = y - y.mean(-1, keepdims=True)
    den = np.sqrt((x * x).sum(-1) * (y * y).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (x * y).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def correlation(predicted, measured, *, level=0.95, n_boot=2000, seed=0) -> Correlation:
    r"""Pearson's and Spearman's correlation of ``predicted`` and ``measured``, with confidence intervals.

    Pearson: :math:`\tanh(\operatorname{artanh} r \pm z_{(1+\mathrm{level})/2} / \sqrt{n - 3})` (Fisher).
    Spearman: the percentile interval of ``n_boot`` bootstrap resamples of the pairs (resamples with a
    constant column are dropped). Non-finite pairs (an outcome never reached, ``inf``) are refused: map
    them to a number first (e.g. the budget) and say so.

    Parameters
    ----------
    predicted, measured : array_like, shape (n,)
        ``n >= 3`` finite pairs.
    level : float in (0, 1)
    n_boot : int >= 100
    seed : any seed sigdist takes

    Returns
    -------
    Correlation

    Examples
    --------
    >>> c = correlation([1, 2, 3, 4, 5], [2.0, 4.1, 5.9, 8.2, 9.9])
    >>> round(c.pearson, 4), c.spearman
    (0.9992, 1.0)
    """
    from scipy.stats import norm

    x = np.asarray(predicted, dtype=np.float64).ravel()
    y = np.asarray(measured, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 3:
        raise ValueError(f"predicted and measured must have the same length >= 3, got {x.size} and {y.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("predicted and measured must be finite (map an outcome never reached to a number first)")
    if isinstance(level, bool) or not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    for name, values in (("predicted", x), ("measured", y)):
        if np.all(values == values[0]):
            raise ValueError(f"{name} must not be constant: no correlation is defined")
    n_boot = check_integer(n_boot, "n_boot", 100)
    n = x.size
    r = float(_pearson_rows(x, y))
    z = norm.ppf(0.5 + level / 2)
    if n > 3 and math.isfinite(r) and abs(r) < 1:
        half = z / math.sqrt(n - 3)
        lo, hi = math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)
    elif math.isfinite(r) and abs(r) == 1 and n > 3:
        lo = hi = r
    else:
        lo = hi = math.nan
    rho = float(_pearson_rows(_ranks(x), _ranks(y)))
    rng = numpy_generator(seed)
    idx = rng.integers(0, n, (n_boot, n))
    boot = _pearson_rows(_ranks(x[idx]), _ranks(y[idx]))
    boot = boot[np.isfinite(boot)]
    if boot.size >= 10:
        s_lo, s_hi = (float(v) for v in np.quantile(boot, [0.5 - level / 2, 0.5 + level / 2]))
    else:
        s_lo = s_hi = math.nan
    return Correlation(r, lo, hi, rho, s_lo, s_hi, n, float(level))
