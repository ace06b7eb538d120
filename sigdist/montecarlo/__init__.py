"""Monte Carlo of real networks, for cross-checking every exact result.

Without torch: ``dense_squared_norms`` (real dense networks in numpy), ``smc_moment``
(sequential Monte Carlo for heavy-tailed moments), ``compare`` and ``ks_distance``.
With the optional extra ``sigdist[mc]`` (torch): ``simulate`` (batched real networks and
the exact reduced sampler, CPU or CUDA) and its result ``Simulation``; the networks it
draws are the modules ``Network.to_torch`` builds (one construction, :mod:`sigdist._torch_io`).
"""

from ._compare import Comparison, compare, ks_distance
from ._numpy import dense_squared_norms
from ._smc import SMCResult, smc_moment

__all__ = ["Comparison", "SMCResult", "Simulation", "compare", "dense_squared_norms", "ks_distance", "simulate",
           "smc_moment"]

_TORCH_NAMES = {"simulate": "_torch", "Simulation": "_torch"}


def __getattr__(name):
    if name in _TORCH_NAMES:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ImportError(f"sigdist.montecarlo.{name} needs torch: pip install \"sigdist[mc]\"") from None
        import importlib

        module = importlib.import_module(f"{__name__}.{_TORCH_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
