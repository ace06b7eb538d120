"""Narrow layers of smooth activations (issue 14): error estimates and times at the default tol.

    python validation/narrow_layers.py [--quick]

Prints, for width 5, one layer from y0 = 5 with sigma_w2 = s / 5 (so the variance is s), each activation's
error estimate at the default tol=1e-8 and the time; then two and three layers (the second layer integrates
against the first one's series by product integration, docs/method.md). A case that cannot meet tol warns;
its estimate is printed as it is. The accuracy against independent references is
validation/accuracy_table.py's (tests/data/reference_smooth.json).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import sigdist
from sigdist import Layer, Network, SigdistWarning


def _law(network, y0):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SigdistWarning)
        start = time.perf_counter()
        law = sigdist.squared_norm_law(network, y0, progress=False)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, SigdistWarning) for w in caught)
    return law, seconds, warned


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="s = 2 only, and two erf layers")
    args = parser.parse_args(argv)
    names = ["tanh", "erf", "silu", "gelu"]
    variances = [2.0] if args.quick else [0.3, 0.5, 1.0, 1.5, 2.0, 3.0]
    print("width 5, one layer: error estimate (time) at tol=1e-8; * = warned")
    print("activation " + " ".join(f"{'s = %g' % s:>17}" for s in variances))
    for name in names:
        cells = []
        for s in variances:
            law, seconds, warned = _law(Network([Layer(5, s / 5, 0.0, name)]), 5.0)
            cells.append(f"{law.error_estimate:8.2g}{'*' if warned else ' '}({seconds:5.1f}s)")
        print(f"{name:10s} " + " ".join(cells))
    print("\nwidth 5, deeper (sigma_w2 = gain / 5, y0 = 5): error estimate, time")
    depths = [2] if args.quick else [2, 3]
    deep = (("erf", 1.5),) if args.quick else (("erf", 1.5), ("tanh", 1.5), ("silu", 2.0), ("gelu", 2.0))
    for name, gain in deep:
        for sigma_b2 in (0.0,) if args.quick else (0.0, 0.05):
            for depth in depths:
                law, seconds, warned = _law(Network([Layer(5, gain / 5, sigma_b2, name)] * depth), 5.0)
                print(f"{name:6s} gain {gain:g} sigma_b2 {sigma_b2:<5g} depth {depth}: "
                      f"{law.error_estimate:8.2g}{' (warned)' if warned else ''}  {seconds:6.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
