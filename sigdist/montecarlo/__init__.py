"""Monte Carlo of real networks, for cross-checking every exact result.

``dense_squared_norms`` simulates real dense networks in numpy (no torch needed).
The batched torch engine (CPU and CUDA) is the optional extra ``sigdist[mc]``.
"""

from ._numpy import dense_squared_norms, ks_distance

__all__ = ["dense_squared_norms", "ks_distance"]
