"""Stationary laws of constant-layer ReLU chains with sigma_b > 0, and their power tails, across sigma_w^2.

    python validation/stationary_tails.py [--quick] [--out stationary_tails.png]

For N = 10, sigma_b^2 = 0.1 and N sigma_w^2 / 2 from 0.3 to 1.3: the stationary law (Perron vector
of the discretised operator), its exact fixed-point moments where they exist, and its tail slope
against the Kesten-Goldie index alpha solving E[(sigma_w^2 S)^alpha; S > 0] = 1. Above the critical
variance the law still exists (the chain regenerates at 0 with probability 2^-N per layer) but its
tail index collapses towards 2^-N.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings

import numpy as np

from sigdist import Layer, SigdistWarning
from sigdist.spectrum import tail_index
from sigdist.stationary import stationary_law, stationary_moments


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="stationary_tails.png")
    args = ap.parse_args(argv)
    width, sb2 = 10, 0.1
    gains = [0.3, 0.6, 0.9, 1.0] if args.quick else [0.3, 0.45, 0.6, 0.75, 0.9, 1.0, 1.1, 1.3]
    ok = True
    laws = []
    print(f"{'N sw2/2':>8} {'alpha':>10} {'slope':>9} {'E[z]':>12} {'rel err':>9} {'E[z^2]':>12} {'rel err':>9}")
    for gain in gains:
        layer = Layer(width, 2 * gain / width, sb2)
        alpha = tail_index(layer)
        if alpha < 0.3:
            print(f"{gain:>8.2f} {alpha:>10.3g}   (too heavy for a grid)")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SigdistWarning)
            law = stationary_law(layer)
        # slope of log P(z > t) over the decades 1e-5..1e-2 of the grid's end (further out the grid's
        # truncation bends it; the Kesten tail is asymptotic, so the check applies to alpha <= 3)
        z = law.grid.z
        sf = law.sf(z)
        band = (z > z[-1] * 1e-5) & (z < z[-1] * 1e-2) & (sf > 0)
        slope = float(np.polyfit(np.log(z[band]), np.log(sf[band]), 1)[0]) if band.sum() > 3 else float("nan")
        moments = stationary_moments(layer)
        m1, m2 = moments.first_moment, moments.second_moment
        e1 = abs(law.mean() / m1 - 1) if math.isfinite(m1) else float("nan")
        e2 = abs(law.moment(2) / m2 - 1) if math.isfinite(m2) else float("nan")
        print(f"{gain:>8.2f} {alpha:>10.5g} {slope:>9.4f} {law.mean():>12.6g} {e1:>9.1e} {law.moment(2):>12.6g} {e2:>9.1e}")
        if alpha <= 3:
            ok &= abs(slope + alpha) < 0.05 * alpha
        ok &= not (math.isfinite(m1) and e1 > 1e-8) and not (math.isfinite(m2) and alpha > 2.5 and e2 > 1e-8)
        laws.append((gain, alpha, law))
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for gain, alpha, law in laws:
        z = np.exp(np.linspace(law.grid.start, law.grid.end, 400))
        ax1.loglog(z, law.sf(z), label=f"$N\\sigma_w^2/2$={gain:g}, $\\alpha$={alpha:.3g}")
    ax1.set_xlabel("z")
    ax1.set_ylabel("P(z > t) at stationarity")
    ax1.legend(fontsize=7)
    g = np.linspace(0.2, 1.6, 60)
    ax2.semilogy(g, [tail_index(Layer(width, 2 * x / width, sb2)) for x in g])
    ax2.set_xlabel(r"$N\sigma_w^2/2$")
    ax2.set_ylabel(r"tail index $\alpha$")
    ax2.set_title(f"N={width}, $\\sigma_b^2$={sb2}")
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
