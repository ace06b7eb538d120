"""sigdist: exact finite-width laws of signals in randomly initialised deep networks.

Every analysis takes a network first (anything :func:`as_network` reads) and returns either a
law (a :class:`Law`: the ``scipy.stats`` frozen contract) or a :class:`Result` (properties,
``*_se`` standard errors, ``to_xarray()``). The names are those of ``docs/glossary.md``.

Submodules, in the order data flows (network spec -> kernel -> operator -> laws -> analyses):

* :mod:`~sigdist.network`, :mod:`~sigdist.activations`, :mod:`~sigdist.weights`: the one network
  spec, the activation registry, the weight-law registry.
* :mod:`~sigdist.kernel`: the kernel ``k_l(y, z)`` (Burkholz & Dubatovka 2019, eq. 7) of relu,
  linear and abs; :mod:`~sigdist.fourier`: the kernel of every other activation (Prop. 1, by Fourier
  inversion; :mod:`~sigdist.one_unit` for width 1, :mod:`~sigdist.series` for its laws' series);
  :mod:`~sigdist.grid`: the log grid and lattice;
  :mod:`~sigdist.operator`: the transition operator ``T_l`` (Prop. 1), with :mod:`~sigdist.lattice_route`
  its cross-check route;
  :mod:`~sigdist.moments`: exact moment recursions.
* :mod:`~sigdist.laws`, :mod:`~sigdist.propagation`: laws of ``|x^(l)|^2``;
  :mod:`~sigdist.empirical`: the empirical law of a sample.
* :mod:`~sigdist.spectrum`: exact eigenvalues, critical window, tail index (``sigma_b = 0``);
  :mod:`~sigdist.stationary`: stationary laws, discrete spectra and mixing (``sigma_b > 0``).
* Two inputs (:mod:`~sigdist.correlation` gathers them): :mod:`~sigdist.pair_moments` (any
  activation), :mod:`~sigdist.relu_pair`,
  :mod:`~sigdist.scalar_product`, :mod:`~sigdist.cosine`, :mod:`~sigdist.pairs`.
* Batch norm and rank (Daneshmand et al. 2020): :mod:`~sigdist.rank`, :mod:`~sigdist.batchnorm`,
  :mod:`~sigdist.rank_chain`, :mod:`~sigdist.lyapunov`, :mod:`~sigdist.rank_profile`,
  :mod:`~sigdist.pretraining`.
* Activation lengths (Hanin & Rolnick 2018): :mod:`~sigdist.lengths`,
  :mod:`~sigdist.initializers`, :mod:`~sigdist.length_bounds`, :mod:`~sigdist.residual_lengths`.
* :mod:`~sigdist.montecarlo`: real networks in torch (the ``mc`` extra), for cross-checks.
* :mod:`~sigdist.training`: the papers' training experiments, many seeds of one network at once
  (torch), beside the statistics at initialisation that predict them (:mod:`~sigdist.training.predictions`).
* Parameter grids and Monte Carlo campaigns on dask.distributed, returned as xarray:
  :func:`~sigdist.sweep` (:mod:`~sigdist.analyses`, the registry of named analyses) and
  :func:`~sigdist.campaign`.
* The application layer on top: :mod:`~sigdist.cli`, :mod:`~sigdist.demo`, :mod:`~sigdist.plotting`.
"""

from . import (activations, batchnorm, correlation, cosine, empirical, fourier, grid, initializers, kernel,
               lattice_route, laws, length_bounds, lengths, lyapunov, moments, montecarlo, network, one_unit,
               operator, pair_moments, pairs, pretraining, propagation,
               rank, rank_chain, rank_profile, relu_pair, residual_lengths, scalar_product, series, spectrum,
               stationary, weights)
from . import free_probability, jacobian, training
from ._export import laws_to_xarray
from ._law import Law
from ._result import Result
from ._warnings import SigdistWarning
from .activations import KNOWN_ACTIVATIONS, Activation
from .correlation import (c_map, correlation_map, cosine_law, mean_cosine, mean_field_cosines, pair_samples,
                          product_law, scalar_product_law, shared_pair_samples)
from .empirical import EmpiricalLaw
from .initializers import initializer_network
from .jacobian import jacobian_spectrum, jvp_law, jvp_moments, jvp_samples, spectral_moments
from .laws import SquaredNormLaw
from .length_bounds import corollary1_mean, corollary2_bounds, theorem5_bounds
from .lengths import empirical_variance, length_moments
from .lyapunov import lyapunov_spectrum
from .network import Layer, Network, ResidualNetwork, as_network
from .operator import ComposedOperator, TransitionOperator
from .propagation import layer_laws, squared_norm_law, squared_norm_moments
from .rank import numerical_rank, rank_bound, soft_rank, stable_rank
from .rank_chain import RankChain
from .rank_profile import hidden_rank_profile
from .residual_lengths import residual_length_moments
from .spectrum import critical_window, mellin_eigenvalue, tail_index
from .stationary import discrete_eigen, mixing_depth, stationary_law, stationary_moments
from .weights import WeightLaw
from . import analyses
from .campaign import Campaign, campaign
from .sweep import sweep

__version__ = "0.2.0"

__all__ = [
    # the spec
    "Activation", "KNOWN_ACTIVATIONS", "Layer", "Network", "ResidualNetwork", "WeightLaw", "as_network",
    # contracts
    "EmpiricalLaw", "Law", "Result", "SigdistWarning", "laws_to_xarray",
    # laws of the squared norm
    "ComposedOperator", "SquaredNormLaw", "TransitionOperator", "layer_laws", "squared_norm_law",
    "squared_norm_moments",
    # spectrum
    "critical_window", "discrete_eigen", "mellin_eigenvalue", "mixing_depth", "stationary_law", "stationary_moments",
    "tail_index",
    # two inputs
    "c_map", "correlation_map", "cosine_law", "mean_cosine", "mean_field_cosines", "pair_samples", "product_law",
    "scalar_product_law", "shared_pair_samples",
    # batch norm and rank
    "RankChain", "hidden_rank_profile", "lyapunov_spectrum", "numerical_rank", "rank_bound", "soft_rank",
    "stable_rank",
    # activation lengths
    "corollary1_mean", "corollary2_bounds", "empirical_variance", "initializer_network", "length_moments",
    "residual_length_moments", "theorem5_bounds",
    # the Jacobian (issue 17)
    "jacobian_spectrum", "jvp_law", "jvp_moments", "jvp_samples", "spectral_moments",
    # submodules
    "free_probability", "jacobian", "training",
    "activations", "batchnorm", "correlation", "cosine", "empirical", "fourier", "grid", "initializers", "kernel",
    "lattice_route", "laws", "length_bounds", "lengths", "lyapunov", "moments", "montecarlo", "network", "one_unit",
    "operator", "pair_moments", "pairs", "pretraining",
    "propagation", "rank", "rank_chain", "rank_profile", "relu_pair", "residual_lengths", "scalar_product", "series",
    "spectrum", "stationary",
    "weights",
    # sweeps
    "Campaign", "analyses", "campaign", "sweep",
]
