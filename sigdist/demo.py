"""The headline demonstration: Fig. 1a of Burkholz & Dubatovka (2019) beside real networks."""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import special

from ._cli_text import legend_line
from .grid import LogGridDensity
from .montecarlo import dense_squared_norms, ks_distance
from .network import Network
from .propagation import layer_laws

__all__ = ["run_demo", "demo_table", "demo_rows", "DEMO_COLUMNS"]

#: the columns of :func:`demo_rows` (their meanings: ``sigdist demo --explain``)
DEMO_COLUMNS = ("l", "mean", "std", "q05", "q50", "q95", "P(z=0)", "mass lost", "MC mean", "z-score", "KS dist",
                "KS p")
_FORMATS = ("2d", "12.10f", "10.6f", "9.5f", "9.5f", "9.5f", "9.2e", "9.1e", "8.5f", "7.2f", "7.4f", "6.3f")


def demo_rows(laws, samples):
    """One row per layer: the exact law's summary beside the Monte Carlo check (columns: :data:`DEMO_COLUMNS`).

    ``samples``: shape ``(n_networks, len(laws))``, the simulated ``|x^(l)|^2``.
    """
    rows = []
    for l, law in enumerate(laws, start=1):
        q05, q50, q95 = law.ppf([0.05, 0.5, 0.95])
        z = samples[:, l - 1]
        zscore = (z.mean() - law.mean()) / (z.std(ddof=1) / math.sqrt(z.size))
        d = ks_distance(z, _absolute_cdf(law), law.atom)
        p = float(special.kolmogorov(math.sqrt(z.size) * d))
        rows.append([l, float(law.mean()), float(law.std()), float(q05), float(q50), float(q95), float(law.atom),
                     float(law.mass_lost), float(z.mean()), float(zscore), float(d), p])
    return rows


def _absolute_cdf(law):
    """The law's CDF to its absolute accuracy (its grid's), all a KS distance needs: the exact tails' relative
    accuracy, which ``law.cdf`` keeps far out, costs seconds a point."""
    cont = getattr(law, "continuous", None)
    if isinstance(cont, LogGridDensity):
        return lambda x: law.atom + cont.cdf_u(np.log(x))
    return law.cdf


def run_demo(width=200, depth=9, n_networks=2000, seed=0, figure="sigdist_demo.png", out=print):
    """Exact laws of ``|x^(l)|^2``, ``l = 1..depth``, of a He network, checked against real networks.

    Returns the laws and the Monte Carlo samples; prints a table (through ``out``) and writes ``figure``
    (a PNG; None: no figure).
    """
    laws, samples, _ = demo_table(width, depth, n_networks, seed, out)
    if figure:
        from .plotting import plot_layer_laws, save_figure

        ax = plot_layer_laws(laws, samples=samples[:, -1],
                             title=f"Law of |x_l|^2, He init, N = {width} (Burkholz & Dubatovka Fig. 1a)")
        save_figure(ax, figure)
        out(f"figure written to {figure}")
    return laws, samples


def demo_table(width=200, depth=9, n_networks=2000, seed=0, out=print):
    """The computation and the table of :func:`run_demo`, without the figure: ``(laws, samples, rows)``,
    ``rows`` as :func:`demo_rows` returns them."""
    network = Network.he([width] * (depth + 1))
    t0 = time.perf_counter()
    laws = layer_laws(network, y0=1.0, tol=1e-8)
    t_exact = time.perf_counter() - t0
    out(f"He network: N_l = {width}, sigma_w^2 = 2/N, sigma_b = 0, |x_0|^2 = 1, L = {depth}")
    out(f"exact laws of |x_l|^2 in {t_exact * 1e3:.1f} ms (tol 1e-8)")
    x0 = np.zeros(width)
    x0[0] = 1.0
    t0 = time.perf_counter()
    samples = dense_squared_norms(network, x0, n_networks, seed=seed)
    t_mc = time.perf_counter() - t0
    widths = [len(format(0.0, f)) if f[-1] != "d" else 2 for f in _FORMATS]
    widths = [max(w, len(c)) for w, c in zip(widths, DEMO_COLUMNS)]
    out(" ".join(f"{c:>{w}}" for c, w in zip(DEMO_COLUMNS, widths)))
    rows = demo_rows(laws, samples)
    for row in rows:
        out(" ".join(format(v, f">{w}{f.lstrip('0123456789')}") for v, w, f in zip(row, widths, _FORMATS)))
    out(legend_line("demo"))
    out(f"Monte Carlo: {n_networks} real networks (full {width}x{width} Gaussian weights) in {t_mc:.1f} s")
    return laws, samples, rows
