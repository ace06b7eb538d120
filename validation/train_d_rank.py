"""Daneshmand et al. (2020), Fig. 1 and 4 at the scale of a CPU: relu MLPs with and without batch norm and with
rank pre-training, trained by SGD, against depth, beside the rank bound r(H_L) at initialisation.

    python validation/train_d_rank.py [--quick] [--out train_d_rank.png]

Data: scikit-learn's digits (split seed 0). Networks: L relu layers of width N, He variance 2 / fan_in, no
biases, a linear read-out: "vanilla"; "bn" (batch norm over the mini-batch before every relu, as the paper's
BN-MLP); "pretrained" (vanilla, each seed's weights first through sigdist.pretraining.maximize_rank_bound on
the first mini-batch: 25 Adam steps of ascent on r(H_l) per layer, train_population(pretrain="rank"));
"rescaled" (the same, each pre-trained layer then rescaled to restore its activation norm on the batch,
pretrain="rank_rescaled": r is unchanged, the signal no longer shrinks).
Training: SGD, one learning rate for all (0.05; the paper grid-searches it per network), batch 64, T steps,
the same mini-batches for every seed. Full: N = 128, L in {5, 10, 20, 40}, 6 seeds, T = 300;
--quick: N = 64, L in {5, 15, 30}, 4 seeds, T = 150.
Prediction (no training): r(H_L) (eq. 4) of the hidden representation of 64 training inputs at the last layer,
mean over 4 networks (sigdist.training.predictions.rank_prediction; after the same pre-training for
"pretrained"), and E[|H_L|^2] / E[|H_0|^2] after pre-training, measured on the same networks (r is blind to
scale). The paper's claim: a higher rank at initialisation trains faster; BN keeps the rank (Theorem 2) and
rank pre-training restores it. Reported: the correlation of r(H_L) with the final training accuracy across
(variant, depth), with intervals; exit code 0 when every number is finite.
"""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _training_common import mean_ci, parse_args, print_table, report, train  # noqa: E402

from sigdist import Layer, Network  # noqa: E402
from sigdist.training import load_digits  # noqa: E402
from sigdist.training.predictions import rank_prediction  # noqa: E402

VARIANTS = ("vanilla", "bn", "pretrained", "rescaled")
PRETRAIN = {"pretrained": "rank", "rescaled": "rank_rescaled"}
LR = 0.05


def network(variant, input_width, width, depth):
    widths = [input_width] + [width] * depth
    if variant == "bn":
        return Network([Layer(w, 2.0 / f, batch_norm=True) for f, w in zip(widths[:-1], widths[1:])], input_width)
    return Network.he(widths)


def pretrained_gain(net, x, n_networks, seed):
    """|H_L|_F^2 / |H_0|_F^2 of relu networks after rank pre-training (the scale r(H) does not see)."""
    from sigdist.pretraining import maximize_rank_bound

    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(n_networks):
        fan_in, weights = x.shape[1], []
        for layer in net:
            weights.append(rng.standard_normal((layer.width, fan_in)) * math.sqrt(layer.sigma_w2))
            fan_in = layer.width
        new, _, _ = maximize_rank_bound(weights, x.T)
        H = x.T
        for w in new:
            H = np.maximum(w.numpy() @ H, 0.0)
        gains.append(float(np.sum(H * H) / np.sum(x * x)))
    return float(np.mean(gains))


def main(argv=None):
    args = parse_args(argv, __doc__, "train_d_rank.png")
    width, depths, seeds, steps = ((64, (5, 15, 30), 4, 150) if args.quick else
                                   (128, (5, 10, 20, 40), 6, 300))
    seeds, steps = args.seeds or seeds, args.steps or steps
    data = load_digits(seed=0)
    batch = np.array(data.x_train[:64])  # writable: torch refuses read-only arrays
    print(f"digits: {data.n_train} train; width {width}; {seeds} seeds; SGD lr {LR:g}, batch 64, {steps} steps")
    rows, results = [], {}
    for variant in VARIANTS:
        for depth in depths:
            net = network(variant, data.input_width, width, depth)
            # r is blind to scale: the rescaled pre-training has the pre-trained networks' r(H_l)
            p = rank_prediction(net, batch, n_networks=4, pretrain_iter=25 if variant in PRETRAIN else 0,
                                seed=depth)
            gain = pretrained_gain(net, batch, 2, depth) if variant == "pretrained" else math.nan
            r, sec = train(net, data, seeds, lr=LR, steps=steps, eval_every=steps, batch_size=64, data_seed=0,
                           pretrain=PRETRAIN.get(variant))
            acc, half = mean_ci(r.final("train_accuracy"))
            loss = float(np.mean(r.final("loss")[~r.diverged])) if np.any(~r.diverged) else math.inf
            results[variant, depth] = (p.final_rank, acc, half)
            rows.append((variant, depth, p.rank_bound[0], p.final_rank, p.final_rank / math.sqrt(width), gain,
                         float(r.loss[:, 0].mean()), loss, acc, half, int(r.diverged.sum()), sec))
            print(f"  {variant} L = {depth}: {sec:.1f} s", file=sys.stderr)
    print_table(["variant", "L", "r(H_0)", "r(H_L)", "r/sqrt(N)", "gain_after_pretrain", "loss_0", "loss_T",
                 "train_acc", "+-95%", "diverged", "seconds"], rows,
                ["<", "d", ".2f", ".3f", ".3f", ".3g", ".4f", ".4f", ".4f", ".4f", "d", ".1f"])
    print("gain_after_pretrain: |H_L|^2 / |H_0|^2 of the pre-trained relu network (He keeps it near 1; nan for "
          "the rescaled one, whose layers are rescaled to keep it)")
    rank = np.array([row[3] for row in rows])
    accuracy = np.array([row[8] for row in rows])
    print("correlation across (variant, depth) of the predicted r(H_L) with the final training accuracy:")
    report("r(H_L) vs training accuracy", rank, accuracy, +1)
    for variant in ("bn", "pretrained", "rescaled"):
        better = [d for d in depths if results[variant, d][1] - results[variant, d][2] >
                  results["vanilla", d][1] + results["vanilla", d][2]]
        worse = [d for d in depths if results[variant, d][1] + results[variant, d][2] <
                 results["vanilla", d][1] - results["vanilla", d][2]]
        print(f"{variant} vs vanilla (95% intervals apart): better at L = {better or 'none'}, worse at L = "
              f"{worse or 'none'}")
    ok = bool(np.all(np.isfinite(rank)) and np.all(np.isfinite(accuracy)))
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    fig, (ax1, ax2) = pyplot().subplots(1, 2, figsize=(11, 4))
    for variant in VARIANTS:
        ax1.errorbar(depths, [results[variant, d][1] for d in depths], yerr=[results[variant, d][2] for d in depths],
                     marker="o", capsize=3, label=variant)
        ax2.semilogx([results[variant, d][0] for d in depths], [results[variant, d][1] for d in depths], "o",
                     label=variant)
    ax1.set_xlabel("depth L")
    ax1.set_ylabel(f"training accuracy after {steps} SGD steps")
    ax1.set_title(f"digits, width {width}, {seeds} seeds (mean, 95% CI)")
    ax1.legend()
    ax2.set_xlabel("predicted r(H_L) at initialisation")
    ax2.set_ylabel("training accuracy")
    ax2.legend()
    return finish_figure(fig, args.out, ok)


if __name__ == "__main__":
    sys.exit(main())
