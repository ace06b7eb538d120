"""Named analyses that :func:`sigdist.sweep` runs at every point of a parameter grid.

An analysis maps one network (built from the point's network parameters) and the point's analysis
parameters to a dict of values, each with its error estimate or standard error beside it
(``<name>_se``, ``error_estimate``: the names of docs/glossary.md), units and a description. The
registry :data:`ANALYSES` holds the built-in ones; :func:`get_analysis` also wraps a user's
function ``f(network, **parameters) -> dict of floats`` (a ``seed`` argument, if the function takes
one, receives the point's own ``numpy.random.SeedSequence``).

Network parameters (the names of :class:`sigdist.Layer`): ``width``, ``depth``, ``sigma_w2``,
``sigma_b2``, ``activation``, ``negative_slope``, ``weight_law``, ``gamma``. A point's network is
``Network.constant(width, depth, sigma_w2, sigma_b2, activation)`` (with ``negative_slope`` and
``weight_law`` passed to its layer): ``sigma_w2`` is the variance of one weight entry, exactly as
:class:`~sigdist.Layer` reads it, *not* multiplied by ``1 / width`` (He initialisation is
``sigma_w2 = 2 / width``; the mean-field weight variance of Poole et al. 2016 is ``width * sigma_w2``).
The batch-norm rank chain builds ``Network.bn_chain(width, gamma=gamma)`` instead.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._checks import check_integer, check_tol
from .cosine import mean_field_cosines
from .lengths import length_moments
from .network import Layer, Network, require_gaussian_iid
from .pairs import pair_samples
from .propagation import squared_norm_law, squared_norm_moments
from .rank_chain import RankChain
from .spectrum import critical_window, mellin_domain, tail_index
from .stationary import stationary_moments

__all__ = ["ANALYSES", "Analysis", "NETWORK_PARAMETERS", "Output", "build_network", "get_analysis"]

#: the parameters a point's network is built from, with their defaults (None: required)
NETWORK_PARAMETERS = {"width": None, "depth": 1, "sigma_w2": None, "sigma_b2": 0.0, "activation": "relu",
                      "negative_slope": 0.01, "weight_law": "gaussian", "gamma": math.inf}

#: quantile levels reported by the law analyses (the ``quantile`` dimension)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class Output:
    """One value an analysis returns: its name, units, description and extra dimensions (``dims``, ``coords``).

    ``infinite``: whether ``inf`` is a documented value of this output (its description says when); a
    sweep records any other non-finite value (NaN always) as the point's error.
    """

    name: str
    units: str
    description: str
    dims: tuple = ()
    coords: dict = field(default_factory=dict)
    infinite: bool = False

    @property
    def shape(self):
        return tuple(len(self.coords[d]) for d in self.dims)


@dataclass(frozen=True)
class Analysis:
    """A named analysis: ``function(network, **parameters) -> dict`` and what it returns.

    Attributes
    ----------
    name, description : str
    function : callable
        ``function(network, **parameters)``; random analyses also take ``seed`` (the point's SeedSequence).
    outputs : tuple of Output, or None
        None for a user's function: the sweep reads the names from its first point.
    parameters : dict
        The analysis parameters (not network parameters) with their defaults.
    network_kind : {"constant", "bn_chain"}
        How a point's network is built (:func:`build_network`).
    check : callable or None
        ``check(network, **parameters)``: a cheap refusal (``ValueError``) of parameters the analysis
        cannot take, run before any task; it must not fail where only the numerics could.
    random : bool
        Whether ``function`` takes ``seed``.
    """

    name: str
    description: str
    function: Callable
    outputs: tuple | None
    parameters: dict
    network_kind: str = "constant"
    check: Callable | None = None
    random: bool = False
    user_required: tuple = ()

    @property
    def required(self):
        """The parameters with no default: the network's (``width``; ``sigma_w2`` for constant layers) and
        a user's function's own."""
        return (("width",) if self.network_kind == "bn_chain" else ("width", "sigma_w2")) + self.user_required

    @property
    def accepted(self):
        """Every parameter name an axis may take: the network's (of its kind) and the analysis's own."""
        net = ("width", "gamma", "sigma_w2", "activation", "weight_law") if self.network_kind == "bn_chain" \
            else tuple(NETWORK_PARAMETERS)
        return net + tuple(self.parameters)


def build_network(kind, params):
    """The point's network from its parameters (``NETWORK_PARAMETERS`` defaults for the ones not given)."""
    p = {k: params.get(k, v) for k, v in NETWORK_PARAMETERS.items()}
    for name in ("width", "sigma_w2") if kind == "constant" else ("width",):
        if p[name] is None:
            raise ValueError(f"{name} must be given (as an axis or a fixed scalar): a point's network needs it")
    if kind == "bn_chain":
        sigma_w2 = 1.0 if p["sigma_w2"] is None else p["sigma_w2"]
        layer = Layer(p["width"], sigma_w2, 0.0, p["activation"] if "activation" in params else "linear",
                      weight_law=p["weight_law"], batch_norm=True, gamma=p["gamma"])
        return Network([layer], input_width=layer.width)
    layer = Layer(p["width"], p["sigma_w2"], p["sigma_b2"], p["activation"], negative_slope=p["negative_slope"],
                  weight_law=p["weight_law"], gamma=p["gamma"])
    if not isinstance(p["depth"], (int, np.integer)) or isinstance(p["depth"], bool) or p["depth"] < 1:
        raise ValueError(f"depth must be an integer >= 1, got {p['depth']!r}")
    return Network([layer] * int(p["depth"]), input_width=layer.width)


# -- the built-in analyses ---------------------------------------------------------------------------

def _law(network, y0=1.0, tol=1e-8):
    law = squared_norm_law(network, y0, tol=tol)
    return {"squared_norm": law.ppf(np.array(QUANTILES)), "first_moment": float(law.mean()), "atom": float(law.atom),
            "error_estimate": float(law.error_estimate), "mass_lost": float(law.mass_lost)}


def _check_law(network, y0=1.0, tol=1e-8):
    check_tol(tol)
    squared_norm_moments(network, y0)  # i.i.d. Gaussian layers, y0 >= 0, an activation finite on its Gaussian


def _atom(network, y0=1.0, tol=1e-8):
    law = squared_norm_law(network, y0, tol=tol)
    return {"atom": float(law.atom), "error_estimate": float(law.error_estimate)}


def _moments(network, y0=1.0):
    m = squared_norm_moments(network, y0)
    first, second = float(m.first_moment[-1]), float(m.second_moment[-1])
    with np.errstate(invalid="ignore", over="ignore"):  # beyond float64: inf, as squared_norm_moments returns
        variance = math.inf if math.isinf(second) else second - first * first
    return {"first_moment": first, "second_moment": second, "variance": variance}


def _tail_index(network):
    return {"tail_index": tail_index(network)}


def _check_tail_index(network):
    layer = network[0]
    mellin_domain(Layer(layer.width, layer.sigma_w2, 0.0, layer.activation))  # relu, linear or abs; Gaussian


def _critical_window(network):
    w = critical_window(network)
    return {"m_crit": w.m_crit, "m_upper": w.m_upper}


def _check_critical_window(network):
    mellin_domain(network)  # sigma_b2 = 0; relu, linear or abs; Gaussian


def _stationary(network):
    m = stationary_moments(network)
    return {"first_moment": m.first_moment, "second_moment": m.second_moment}


def _check_stationary(network):
    require_gaussian_iid(network[0])


def _cosine(network, y0=1.0, rho=0.5, n_networks=2000, seed=None):
    s = pair_samples(network, y0, y0, rho * y0, n_networks=n_networks, seed=seed)
    return {"cosine_mean": float(s.cosine_mean[-1]), "cosine_mean_se": float(s.cosine_mean_se[-1]),
            "mean_field_cosine": float(mean_field_cosines(network, y0, y0, rho * y0)[-1])}


def _check_cosine(network, y0=1.0, rho=0.5, n_networks=2000):
    if isinstance(rho, bool) or not (isinstance(rho, (int, float, np.floating, np.integer)) and -1.0 <= rho <= 1.0):
        raise ValueError(f"rho must be a number in [-1, 1] (the inputs' cosine), got {rho!r}")
    check_integer(n_networks, "n_networks", 2)
    pair_samples(Network([network[0]], network.input_width), y0, y0, rho * y0, n_networks=2, seed=0)


def _lengths(network, y0=None):
    m = length_moments(network, y0)
    return {"length_mean": float(m.length_mean[-1]), "length_variance": float(m.length_variance[-1]),
            "empirical_variance": float(m.empirical_variance())}


def _rank_chain(network, n_networks=4, n_steps=2000, burn_in=200, tau=0.5, batch=None, seed=None):
    r = RankChain(network, n_networks=n_networks, batch=batch, seed=seed, backend="numpy") \
        .run(n_steps, burn_in=burn_in, tau=tau, progress=False)
    return {"r_mean": r.r_mean, "r_mean_se": r.r_mean_se, "soft_rank_mean": r.soft_rank_mean,
            "soft_rank_mean_se": r.soft_rank_mean_se}


def _check_rank_chain(network, n_networks=4, n_steps=2000, burn_in=200, tau=0.5, batch=None):
    n_steps, burn_in = check_integer(n_steps, "n_steps", 1), check_integer(burn_in, "burn_in", 0)
    if n_steps <= burn_in:
        raise ValueError(f"n_steps must be > burn_in, got n_steps={n_steps}, burn_in={burn_in}")
    RankChain(network, n_networks=n_networks, batch=batch, seed=0, backend="numpy").run(1, tau=tau, progress=False)


_Z = "squared norm |x^(L)|^2 (units of y0)"
_Q = {"quantile": np.array(QUANTILES)}

ANALYSES = {a.name: a for a in [
    Analysis("squared_norm_law", "quantiles, mean and atom of the law of |x^(L)|^2 (squared_norm_law)", _law,
             (Output("squared_norm", "y0", f"quantiles of the {_Z} (dim quantile: the levels)", ("quantile",), _Q),
              Output("first_moment", "y0", f"E of the {_Z} (from the law)"),
              Output("atom", "1", "P(|x^(L)|^2 = 0)"),
              Output("error_estimate", "1", "bound on the sup-norm CDF error of the discretised law"),
              Output("mass_lost", "1", "probability that fell off the law's grid")),
             {"y0": 1.0, "tol": 1e-8}, check=_check_law),
    Analysis("atom", "the atom P(|x^(L)|^2 = 0) of the law of the last layer (squared_norm_law)", _atom,
             (Output("atom", "1", "P(|x^(L)|^2 = 0)"),
              Output("error_estimate", "1", "bound on the sup-norm CDF error of the discretised law")),
             {"y0": 1.0, "tol": 1e-8}, check=_check_law),
    Analysis("squared_norm_moments", "exact E z, E z^2 and Var z of z = |x^(L)|^2 (squared_norm_moments)",
             _moments, (Output("first_moment", "y0", f"E of the {_Z} (exact; inf: beyond float64)", infinite=True),
                        Output("second_moment", "y0^2", f"E of the square of the {_Z} (exact; inf: beyond float64)",
                               infinite=True),
                        Output("variance", "y0^2", f"Var of the {_Z} (exact; inf: beyond float64)", infinite=True)),
             {"y0": 1.0}, check=_check_law),
    Analysis("tail_index", "Kesten-Goldie tail index alpha of the stationary law, P(z > t) ~ t^-alpha "
             "(spectrum.tail_index; exact root, the bias does not enter)", _tail_index,
             (Output("tail_index", "1", "alpha with P(z > t) ~ t^-alpha (exact root)"),), {}, check=_check_tail_index),
    Analysis("critical_window", "the interval m_crit < m < m_upper where lambda_m < 1 (spectrum.critical_window; "
             "sigma_b2 = 0)", _critical_window,
             (Output("m_crit", "1", "lower end of the critical window (root of lambda_m = 1, ~1e-12 width)"),
              Output("m_upper", "1", "upper end of the critical window")), {},
             check=_check_critical_window),
    Analysis("stationary_mean", "exact first two moments of the stationary law (stationary.stationary_moments; "
             "inf where they diverge)", _stationary,
             (Output("first_moment", "sigma_b2", "E z under the stationary law (exact; inf: diverges)", infinite=True),
              Output("second_moment", "sigma_b2^2", "E z^2 under the stationary law (exact; inf: diverges)",
                     infinite=True)),
             {}, check=_check_stationary),
    Analysis("mean_cosine", "mean cosine of two inputs (|x1|^2 = |x2|^2 = y0, cosine rho) after depth layers: "
             "exact reduced sampler (pairs.pair_samples) and the mean-field value", _cosine,
             (Output("cosine_mean", "1", "mean cosine after the last layer (Monte Carlo, exact sampler)"),
              Output("cosine_mean_se", "1", "standard error of cosine_mean"),
              Output("mean_field_cosine", "1", "infinite-width (mean-field) cosine after the last layer")),
             {"y0": 1.0, "rho": 0.5, "n_networks": 2000}, check=_check_cosine, random=True),
    Analysis("length_moments", "E[M_d], Var[M_d] and E[empirical variance of M_1..M_d] of H&R's normalised "
             "squared length M = |x|^2 / width (lengths.length_moments)", _lengths,
             (Output("length_mean", "y0 / width", "E[M_d] at the last layer (exact; inf: beyond float64)",
                     infinite=True),
              Output("length_variance", "(y0 / width)^2", "Var[M_d] at the last layer (exact; inf: beyond float64)",
                     infinite=True),
              Output("empirical_variance", "(y0 / width)^2",
                     "E of the empirical variance of M_1..M_d (exact; inf: beyond float64)", infinite=True)),
             {"y0": None}, check=_lengths),
    Analysis("rank_chain", "long-run E[r(H)] and E[rank_tau(H)] of the batch-norm chain (rank_chain.RankChain; "
             "Network.bn_chain(width, gamma=gamma))", _rank_chain,
             (Output("r_mean", "1", "long-run mean of r(H) = d^2 / |M|_F^2 (batch means)"),
              Output("r_mean_se", "1", "standard error of r_mean"),
              Output("soft_rank_mean", "1", "long-run mean of the soft rank rank_tau(H)"),
              Output("soft_rank_mean_se", "1", "standard error of soft_rank_mean")),
             {"n_networks": 4, "n_steps": 2000, "burn_in": 200, "tau": 0.5, "batch": None},
             network_kind="bn_chain", check=_check_rank_chain, random=True),
]}


def get_analysis(analysis) -> Analysis:
    """The :class:`Analysis` of a registered name, or a user's function wrapped as one.

    A user's function takes the network first; its other keyword parameters (with defaults or not)
    are the analysis parameters an axis may set, and ``seed``, if present, receives the point's
    ``SeedSequence``. It returns a dict of floats (or arrays of a fixed shape).
    """
    if isinstance(analysis, Analysis):
        return analysis
    if isinstance(analysis, str):
        if analysis not in ANALYSES:
            raise ValueError(f"analysis must be one of {', '.join(sorted(ANALYSES))} or a function of a "
                             f"Network, got {analysis!r}")
        return ANALYSES[analysis]
    if not callable(analysis):
        raise ValueError(f"analysis must be a name ({', '.join(sorted(ANALYSES))}) or a function of a Network, "
                         f"got {type(analysis).__name__}")
    try:
        sig = inspect.signature(analysis)
    except (TypeError, ValueError):
        raise ValueError("analysis: the function's signature cannot be read") from None
    names = list(sig.parameters)
    if not names:
        raise ValueError("analysis must take the network as its first argument")
    own = [p for p in list(sig.parameters.values())[1:]
           if p.name != "seed" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    params = {p.name: (None if p.default is inspect.Parameter.empty else p.default) for p in own}
    required = tuple(p.name for p in own if p.default is inspect.Parameter.empty)
    name = getattr(analysis, "__qualname__", type(analysis).__name__)
    return Analysis(name, (inspect.getdoc(analysis) or name).split("\n")[0], analysis, None, params,
                    random="seed" in sig.parameters, user_required=required)
