"""The headline demonstration: Fig. 1a of Burkholz & Dubatovka (2019) beside real networks."""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import special

from .montecarlo import dense_squared_norms, ks_distance
from .network import Network
from .propagation import layer_laws

__all__ = ["run_demo"]


def run_demo(width=200, depth=9, n_networks=2000, seed=0, figure="sigdist_demo.png", out=print):
    """Exact laws of ``|x^(l)|^2``, ``l = 1..depth``, of a He network, checked against real networks.

    Returns the laws and the Monte Carlo samples; prints a table and writes ``figure`` (a PNG).
    """
    network = Network.he([width] * (depth + 1))
    t0 = time.perf_counter()
    laws = layer_laws(network, y0=1.0, tol=1e-8)
    t_exact = time.perf_counter() - t0
    out(f"He network: N_l = {width}, sigma_w^2 = 2/N, sigma_b = 0, |x_0|^2 = 1, L = {depth}")
    out(f"exact laws of |x_l|^2 in {t_exact * 1e3:.1f} ms (tol 1e-8)")
    out(f"{'l':>2} {'mean':>12} {'std':>10} {'q05':>9} {'q50':>9} {'q95':>9} {'P(z=0)':>9} {'mass lost':>9}"
        f" | {'MC mean':>8} {'z-score':>7} {'KS dist':>7} {'KS p':>6}")
    x0 = np.zeros(width)
    x0[0] = 1.0
    t0 = time.perf_counter()
    samples = dense_squared_norms(network, x0, n_networks, seed=seed)
    t_mc = time.perf_counter() - t0
    for l, law in enumerate(laws, start=1):
        q05, q50, q95 = law.ppf([0.05, 0.5, 0.95])
        z = samples[:, l - 1]
        zscore = (z.mean() - law.mean()) / (z.std(ddof=1) / math.sqrt(z.size))
        d = ks_distance(z, law.cdf, law.atom)
        p = float(special.kolmogorov(math.sqrt(z.size) * d))
        out(f"{l:>2} {law.mean():>12.10f} {law.std():>10.6f} {q05:>9.5f} {q50:>9.5f} {q95:>9.5f} "
            f"{law.atom:>9.2e} {law.mass_lost:>9.1e} | {z.mean():>8.5f} {zscore:>7.2f} {d:>7.4f} {p:>6.3f}")
    out(f"Monte Carlo: {n_networks} real networks (full {width}x{width} Gaussian weights) in {t_mc:.1f} s")
    if figure:
        from .plotting import plot_layer_laws

        plot_layer_laws(laws, figure, samples=samples[:, -1],
                        title=f"Law of |x_l|^2, He init, N = {width} (Burkholz & Dubatovka Fig. 1a)")
        out(f"figure written to {figure}")
    return laws, samples
