"""Burkholz & Dubatovka (2019), Fig. 3 at the scale of a CPU: test accuracy after a fixed budget of SGD against
depth for He, GSM and looks-linear (orthogonal) initialisation, beside sigdist's prediction at initialisation.

    python validation/train_bd_depth.py [--quick] [--out train_bd_depth.png]

Data: scikit-learn's digits (1348 train, 449 test, 64 features, 10 classes; split seed 0). Networks: L relu
layers of width N, no biases, a linear read-out; He and GSM sigma_w^2 = 2 / fan_in, looks-linear sigma_w^2 = 1
(the whole network shared as Network.gsm / Network.looks_linear build it: the first layer reads x[:32] - x[32:]).
Training: SGD, batch 64, the paper's schedule shape lr(t) = lr0 / L * (1/31 + 30/31 exp(-t / T)) (theirs is
(1e-4 + 3e-3 exp(-t/1e4)) / L for T = 1e4 steps; lr0 = 0.1 here, for T = 400 steps, 200 with --quick);
every seed sees the same mini-batches. Full: N = 128, L in {1, 2, 4, 8, 12, 16, 20}, 10 seeds, T = 400; --quick:
N = 64, L in {2, 6, 12, 20}, 8 seeds.
Prediction (no training): the mean cosine of two inputs at depth L from the exact pair chain (the data's
mean pairwise cosine in, as the first layer reads it), its retention (1 - E cos_L) / (1 - cos_0), and the
atom and log(q95/q05) spread of |x_L|^2 / |x_0|^2 from the exact law. The paper's claim: cosines that
stay apart (GSM, looks-linear) and a narrow output law train better as depth grows, He worse. Reported:
the correlation of retention and of spread with the final test accuracy across (init, depth), with
intervals; exit code 0 when every number is finite (the verdict is printed, not enforced).
"""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _training_common import mean_ci, parse_args, print_table, report, train  # noqa: E402

from sigdist import Network  # noqa: E402
from sigdist.training import load_digits  # noqa: E402
from sigdist.training.predictions import cosine_prediction, input_cosine  # noqa: E402

INITS = ("he", "gsm", "looks_linear")


def schedule(steps):
    return lambda t: (1.0 + 30.0 * math.exp(-t / steps)) / 31.0


def main(argv=None):
    args = parse_args(argv, __doc__, "train_bd_depth.png")
    width, depths, seeds, steps, n_pairs = ((64, (2, 6, 12, 20), 8, 200, 1000) if args.quick else
                                            (128, (1, 2, 4, 8, 12, 16, 20), 10, 400, 4000))
    seeds, steps = args.seeds or seeds, args.steps or steps
    lr0 = 0.1
    data = load_digits(seed=0)
    print(f"digits: {data.n_train} train, {data.n_test} test; width {width}; {seeds} seeds; SGD, batch 64, "
          f"{steps} steps, lr(t) = {lr0:g}/L * (1 + 30 exp(-t/{steps}))/31")
    rows, results = [], {}
    for init in INITS:
        sharing = "none" if init == "he" else init
        cos0 = input_cosine(data.x_train, sharing=sharing, seed=0)
        for depth in depths:
            net = getattr(Network, init)([data.input_width] + [width] * depth)
            p = cosine_prediction(net, cos0, n_networks=n_pairs, seed=depth)
            r, sec = train(net, data, seeds, lr=lr0 / depth, schedule=schedule(steps), steps=steps,
                           eval_every=steps, batch_size=64, data_seed=0)
            acc, half = mean_ci(r.final("test_accuracy"))
            results[init, depth] = (p, acc, half, r)
            rows.append((init, depth, cos0, p.final_cosine, p.cosine_mean_se[-1], p.cosine_retention, p.output_atom,
                         p.log_spread, acc, half, int(r.diverged.sum()), sec))
            print(f"  {init} L = {depth}: {sec:.1f} s", file=sys.stderr)
    print_table(["init", "L", "cos_0", "E[cos_L]", "se", "retention", "atom", "log_spread", "test_acc", "+-95%",
                 "diverged", "seconds"], rows,
                ["<", "d", ".4f", ".4f", ".1e", ".4f", ".2e", ".3f", ".4f", ".4f", "d", ".1f"])
    retention = np.array([row[5] for row in rows])
    spread = np.array([row[7] for row in rows])
    accuracy = np.array([row[8] for row in rows])
    print("correlation across (init, depth) configurations of the prediction with the final test accuracy:")
    report("cosine retention vs test accuracy", retention, accuracy, +1)
    report("log spread of |x_L|^2 vs test accuracy", spread, accuracy, -1)
    deepest = depths[-1]
    order = sorted(INITS, key=lambda i: -results[i, deepest][1])
    print(f"at L = {deepest}: test accuracy " + ", ".join(
        f"{i} {results[i, deepest][1]:.4f} +- {results[i, deepest][2]:.4f}" for i in order)
        + f" (the paper: looks-linear >= GSM > He at depth)")
    ok = bool(np.all(np.isfinite(retention)) and np.all(np.isfinite(accuracy)) and np.all(np.isfinite(spread)))
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    fig, (ax1, ax2) = pyplot().subplots(1, 2, figsize=(11, 4))
    for init in INITS:
        acc = [results[init, d][1] for d in depths]
        half = [results[init, d][2] for d in depths]
        ax1.errorbar(depths, acc, yerr=half, marker="o", capsize=3, label=init)
        ax2.plot([results[init, d][0].cosine_retention for d in depths], acc, "o", label=init)
    ax1.set_xlabel("depth L")
    ax1.set_ylabel(f"test accuracy after {steps} SGD steps")
    ax1.set_title(f"digits, width {width}, {seeds} seeds (mean, 95% CI)")
    ax1.legend()
    ax2.set_xlabel("predicted cosine retention (1 - E cos_L) / (1 - cos_0)")
    ax2.set_ylabel("test accuracy")
    ax2.set_title("prediction at initialisation vs outcome")
    ax2.legend()
    return finish_figure(fig, args.out, ok)


if __name__ == "__main__":
    sys.exit(main())
