"""Accuracy of sigdist's laws of |x_L|^2 against the independent mpmath references.

    python validation/accuracy_table.py [--quick]

Reads tests/data/reference_cdf.json (made by validation/reference_cdf.py, which does not
import sigdist) and prints, per case: max |CDF error| and max |SF error| over the reference
points, the law's own error estimate, the relative error of E[z] and E[z^2] against the exact
recursions, the grid size and the time. --quick runs the cases at tol 1e-8 only (the default
adds tol 1e-6 and 1e-10 to show the accuracy follows tol).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import warnings

import numpy as np

import sigdist

DATA = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "reference_cdf.json"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    ref = json.loads(DATA.read_text())
    tols = [1e-8] if args.quick else [1e-6, 1e-8, 1e-10]
    print(f"{'case':<15}{'tol':>7}{'max|dCDF|':>11}{'max|dSF|':>10}{'estimate':>10}{'dE[z]':>9}{'dE[z2]':>9}"
          f"{'grid':>6}{'ms':>8}")
    worst = 0.0
    sigdist.squared_norm_law(sigdist.Network.constant(5, 1, 1.0))  # compile once, outside the timings
    for name, case in ref["cases"].items():
        net = sigdist.Network([sigdist.Layer(int(n), w, b) for n, w, b in case["layers"]])
        m = sigdist.squared_norm_moments(net, case["y0"])
        mean, second = m.first_moment, m.second_moment
        for tol in tols:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sigdist.SigdistWarning)
                t0 = time.perf_counter()
                law = sigdist.squared_norm_law(net, case["y0"], tol=tol)
                ms = 1e3 * (time.perf_counter() - t0)
            x = np.array(case["x"])
            e_cdf = float(np.max(np.abs(law.cdf(x) - np.array(case["cdf"]))))
            e_sf = float(np.max(np.abs(law.sf(x) - np.array(case["sf"]))))
            if tol == 1e-8:
                worst = max(worst, e_cdf, e_sf)
            print(f"{name:<15}{tol:>7.0e}{e_cdf:>11.1e}{e_sf:>10.1e}{law.error_estimate:>10.1e}"
                  f"{law.mean() / mean[-1] - 1:>9.1e}{law.moment(2) / second[-1] - 1:>9.1e}"
                  f"{law.grid.size:>6}{ms:>8.1f}")
    print(f"worst CDF/SF error at tol 1e-8: {worst:.2e}")
    return 0 if worst <= 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
