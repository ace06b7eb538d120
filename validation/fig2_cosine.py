"""Fig. 2 of Burkholz & Dubatovka (2019): the law of the cosine similarity after one He layer, and its
departure from the mean-field c-map over depth.

    python validation/fig2_cosine.py [--quick] [--out fig2_cosine.png]

Left: densities of the cosine after one layer, |x1| = |x2| = 1, input cosines 0, 0.25, 0.5, 0.75, for
N = 100 and 200 (exact reduced sampler; 1e6 samples, 2e4 with --quick), beside the delta-method normal
approximation (its measured sup-CDF error is printed). Right: the mean cosine over 30 layers for
N = 10, 50, 200 beside the c-map iteration. Claims checked: one-layer means match the 1/N-corrected
mean within 4 standard errors; the mean cosine rises towards 1 with depth (Thm. 5's discussion), and
faster... or slower than the c-map at finite width (printed).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sigdist import Layer, Network
from sigdist.correlation import cosine_law, mean_field_cosines, pair_samples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig2_cosine.png")
    args = ap.parse_args(argv)
    n = 20_000 if args.quick else 1_000_000
    ok = True
    print(f"{'N':>4} {'cos in':>6} {'mean':>9} {'s.e.':>8} {'1/N mean':>9} {'c-map':>8} {'normal sd':>9} {'normal err':>10}")
    laws = []
    for width in (100, 200):
        for c in (0.0, 0.25, 0.5, 0.75):
            layer = Layer(width, 2 / width)
            law = cosine_law(layer, 1.0, 1.0, c, n_networks=n, seed=width + int(100 * c))
            c_map = float(mean_field_cosines(layer, 1.0, 1.0, c)[0])
            # the delta method's O(1/N^2) remainder, K |first - inf| / N with K <= 4.4 measured (tests/test_cosine.py)
            remainder = 8 * abs(law.approx_mean - c_map) / width
            ok &= abs(law.mean() - law.approx_mean) < 4 * law.mean_se() + remainder
            print(f"{width:>4} {c:>6.2f} {law.mean():>9.5f} {law.mean_se():>8.1e} {law.approx_mean:>9.5f} "
                  f"{c_map:>8.5f} {law.approx_sd:>9.5f} {law.approx_error:>10.4f}")
            laws.append((width, c, law))
    depth = 10 if args.quick else 30
    curves = []
    for width in (10, 50, 200):
        net = Network.constant(width, depth, 2 / width)
        samples = pair_samples(net, 1.0, 1.0, 0.25, n_networks=2000 if args.quick else 50_000, seed=width)
        mean, se = samples.cosine_mean, samples.cosine_mean_se
        mf = mean_field_cosines(net, 1.0, 1.0, 0.25)
        curves.append((width, mean, se, mf))
        print(f"N={width:>3}: mean cosine at depth {depth}: {mean[-1]:.4f} +- {se[-1]:.4f} (c-map {mf[-1]:.4f})")
        ok &= bool(mean[-1] > mean[0])
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for width, c, law in laws:
        hist, edges = np.histogram(law.samples, bins=80, range=(-0.05, 1.0), density=True)
        ax1.plot(0.5 * (edges[:-1] + edges[1:]), hist, ls="-" if width == 200 else "--",
                 label=f"N={width}, cos={c}")
    ax1.set_xlabel("cosine similarity after one layer")
    ax1.set_ylabel("density")
    ax1.legend(fontsize=7, ncol=2)
    for width, mean, se, mf in curves:
        line, = ax2.plot(np.arange(1, depth + 1), mean, label=f"N={width}")
        ax2.plot(np.arange(1, depth + 1), mf, ls=":", color=line.get_color())
    ax2.set_xlabel("layer")
    ax2.set_ylabel("mean cosine (dotted: c-map)")
    ax2.legend()
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
