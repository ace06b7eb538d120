"""sigdist: exact finite-width laws of signals in randomly initialised deep networks.

The public API, re-exported here:

* :class:`Layer`, :class:`Network`: the one description of a network.
* :class:`TransitionOperator`: the operator ``T_l`` of Burkholz & Dubatovka (2019), Prop. 1.
* :func:`squared_norm_law`, :func:`layer_laws`: laws of ``|x^(l)|^2`` as frozen distributions.
* :mod:`sigdist.kernel`: the kernel ``k_l(y, z)`` (eq. 7); :mod:`sigdist.moments`: exact moment recursions.
* :mod:`sigdist.spectrum`, :mod:`sigdist.correlation`: eigenvalues and stationary laws; two inputs.
* :mod:`sigdist.rank`, :mod:`sigdist.batchnorm`: rank measures, the BN rank chain (Daneshmand et al. 2020).
* :mod:`sigdist.lengths`: exact activation-length moments (Hanin & Rolnick 2018).
* :mod:`sigdist.montecarlo`: real networks in torch, for cross-checks.
"""

from . import batchnorm, lengths, rank
from .activations import KNOWN_ACTIVATIONS, Activation
from .grid import Lattice, LogGrid
from ._warnings import SigdistWarning
from .laws import SquaredNormLaw
from .moments import squared_norm_moments
from ._law import Law
from .empirical import EmpiricalLaw
from ._result import Result
from .network import Layer, Network, ResidualNetwork, as_network
from .operator import ComposedOperator, TransitionOperator
from .propagation import layer_laws, squared_norm_law

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "ComposedOperator",
    "EmpiricalLaw",
    "Law",
    "Result",
    "as_network",
    "KNOWN_ACTIVATIONS",
    "Lattice",
    "Layer",
    "LogGrid",
    "Network",
    "ResidualNetwork",
    "SigdistWarning",
    "SquaredNormLaw",
    "TransitionOperator",
    "layer_laws",
    "squared_norm_law",
    "squared_norm_moments",
]
