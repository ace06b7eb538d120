"""
Phase diagrams from parameter sweeps: heavy tails, order and chaos, FM2
=======================================================================

:func:`sigdist.sweep` runs one analysis at every point of a parameter grid and returns an
``xarray.Dataset``. Three diagrams (``client="serial"``: a plain loop, no dask cluster; a script of your
own can drop it and use the embedded cluster inside an ``if __name__ == "__main__":`` guard):

* **relu with bias**: the tail index :math:`\\alpha` of the stationary law of :math:`z = |x|^2`,
  :math:`P(z > t) \\sim t^{-\\alpha}` (``"tail_index"``), over :math:`s = N\\sigma_w^2` at widths 5, 20, 100.
  :math:`\\alpha \\le 2`: infinite variance; He (:math:`s = 2`) sits at :math:`\\alpha = 1` at every width.
  The bias sets only the scale of the stationary law, so :math:`\\alpha` does not depend on
  :math:`\\sigma_b^2` (nor does the atom, :math:`2^{-N}` whenever :math:`\\sigma_b^2 > 0`).
* **tanh, order and chaos**: the one-layer mean cosine map :math:`\\rho \\mapsto E[\\cos]` at the
  mean-field fixed point :math:`q^*` always fixes :math:`\\rho = 1`; the network is chaotic where its slope
  there exceeds 1. Mean field (Poole et al. 2016): the slope is
  :math:`\\chi_1 = s\\,E[\\tanh'(h)^2]`; at width :math:`N` :func:`sigdist.mean_cosine` adds its
  :math:`1/N` term, and the boundary moves to smaller :math:`s`. A user analysis (a function of the
  network returning a dict of floats) computes the slope.
* **FM2** (Hanin & Rolnick 2018): :math:`\\mathrm{Var}[M_d]/E[M_d]^2` of the normalised squared length of
  He relu networks (``"length_moments"``), which is :math:`(1 + 5/N)^d - 1 \\approx e^{5d/N} - 1`.

The full version with its checks: ``validation/phase_diagrams.py``.
"""

import math
import os

import matplotlib.pyplot as plt
import numpy as np
from scipy import optimize

import sigdist

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_grid = 8 if QUICK else 20

# -- relu: the tail index over s = N sigma_w2 (sigma_b2 = 0.1; any sigma_b2 > 0 gives the same alpha) --------
s = np.linspace(0.5, 4.0, 15 if QUICK else 57)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
ax = axes[0]
for width in (5, 20, 100):
    ds = sigdist.sweep("tail_index", sigma_w2=s / width, width=width, sigma_b2=0.1, client="serial", seed=0,
                       progress=False)
    alpha = ds["tail_index"].values
    ax.semilogy(s, alpha, label=f"N = {width}")
    print(f"relu N={width}: alpha at He (s = 2) = {alpha[np.argmin(abs(s - 2))]:.12f}; "
          f"alpha = 2 at s = {np.interp(-2.0, -alpha, s):.3f}")
ax.axhline(2, color="r", ls="--", lw=0.8, label=r"$\alpha = 2$: infinite variance below")
ax.axhline(1, color="k", ls="--", lw=0.8, label=r"$\alpha = 1$: infinite mean below")
ax.set_ylim(1e-3, 500)
ax.set_xlabel(r"$s = N\sigma_w^2$")
ax.set_ylabel(r"tail index $\alpha$ of the stationary law")
ax.set_title("relu with bias: heavy tails", fontsize=10)
ax.legend(fontsize=8)

# -- tanh: the slope of the mean cosine map at rho = 1 over (s, sigma_b2) -----------------------------------
g, w = np.polynomial.hermite_e.hermegauss(200)
w = w / w.sum()


def q_star(s, sigma_b2):
    """Mean-field fixed point q* = s E tanh(sqrt(q*) g)^2 + sigma_b2."""
    return optimize.brentq(lambda q: s * (w @ np.tanh(math.sqrt(q) * g) ** 2) + sigma_b2 - q, sigma_b2, s + sigma_b2)


def cosine_slope(network, eps=1e-6):
    """Slopes at rho = 1 of the mean cosine map of the first layer, at the mean-field q*."""
    layer = network[0]
    s = layer.width * layer.sigma_w2
    q = q_star(s, layer.sigma_b2)
    y = layer.width * (w @ np.tanh(math.sqrt(q) * g) ** 2)  # |x|^2 at the fixed point
    m = sigdist.mean_cosine(layer, y, y, (1 - eps) * y)
    return {"chi_1": s * (w @ np.cosh(math.sqrt(q) * g) ** -4), "slope": (1 - m.first_order) / eps}


width = 10
s_b, b2 = np.linspace(0.5, 4.0, n_grid), np.linspace(0.01, 0.3, n_grid)
ds = sigdist.sweep(cosine_slope, sigma_w2=s_b / width, sigma_b2=b2, width=width, activation="tanh",
                   client="serial", seed=0, progress=False)
ax = axes[1]
image = ax.pcolormesh(s_b, b2, ds["slope"].values.T, shading="nearest", cmap="coolwarm", vmin=0.5, vmax=1.5)
ax.contour(s_b, b2, ds["slope"].values.T, levels=[1.0], colors="k")
ax.contour(s_b, b2, ds["chi_1"].values.T, levels=[1.0], colors="w", linestyles="--")
ax.plot([], [], "k", label=f"N = {width}: slope = 1")
ax.plot([], [], "w--", label=r"mean field: $\chi_1 = 1$")
ax.set_xlabel(r"$s = N\sigma_w^2$")
ax.set_ylabel(r"$\sigma_b^2$")
ax.set_title(f"tanh, N = {width}: cosine-map slope at $\\rho = 1$\n(order < 1 < chaos)", fontsize=10)
ax.legend(fontsize=8, loc="upper left")
fig.colorbar(image, ax=ax)
print(f"tanh N={width}: N (slope - chi_1) over the grid, from {float((ds.slope - ds.chi_1).min()) * width:.3f} "
      f"to {float((ds.slope - ds.chi_1).max()) * width:.3f}")

# -- FM2: Var[M_d] / E[M_d]^2 over (width, depth) ----------------------------------------------------------
widths = [5, 10, 20, 50, 100]
depths = np.arange(1, 51 if QUICK else 201)
ax = axes[2]
for n in widths:
    ds = sigdist.sweep("length_moments", depth=depths, width=n, sigma_w2=2.0 / n, client="serial", seed=0,
                       progress=False)
    ratio = ds["length_variance"].values / ds["length_mean"].values ** 2
    ax.semilogy(depths / n, ratio, label=f"N = {n}")
    c = np.sum((depths / n) * np.log1p(ratio)) / np.sum((depths / n) ** 2)
    print(f"FM2 N={n}: log(1 + Var/E^2) = c d / N with c = {c:.4f} (N log(1 + 5/N) = {n * math.log1p(5 / n):.4f})")
x = np.linspace(0.02, depths[-1] / widths[0], 200)
ax.semilogy(x, np.expm1(5 * x), "k--", label=r"$e^{5d/N} - 1$")
ax.set_xlabel(r"$d / N = \sum_j 1/n_j$")
ax.set_ylabel(r"Var$[M_d]$ / E$[M_d]^2$")
ax.set_title("FM2, He relu: the length's spread\ngrows like exp(5 d / N)", fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
