"""
Does the statistic at initialisation predict which networks train? (issue 19)
=============================================================================

Burkholz & Dubatovka (2019) predict from the random network alone, before any step of training, that deep
He-initialised relu networks train worse than networks with looks-linear (orthogonal, parameter-shared)
initialisation: He layers push two inputs' cosine towards 1 and spread the law of :math:`|x_L|^2`, while
looks-linear layers are isometries. :func:`sigdist.training.predictions.cosine_prediction` computes both
statistics (the exact pair chain and the exact law); :func:`sigdist.training.train_population` then trains
many seeds of each network at once on scikit-learn's digits (no download) and gives the test accuracy after
a fixed budget of SGD with a confidence interval across seeds.

The full experiments (three papers, with correlations and intervals) are ``validation/train_bd_depth.py``,
``validation/train_d_rank.py`` and ``validation/train_hr_lengths.py``; ``docs/training.md`` reports them.
Training needs torch (``sigdist[mc]``): without it this example draws the predictions only. (Width 64 at
least: looks-linear layers must not narrow below the 64 input features for the exact pair chain.)
"""

import math
import os

import matplotlib.pyplot as plt
import numpy as np

from sigdist import Network
from sigdist.training import load_digits
from sigdist.training.predictions import cosine_prediction, input_cosine

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
width, depths, seeds, steps = (64, [2, 8], 4, 100) if QUICK else (64, [2, 4, 8, 12, 16, 20], 10, 300)
data = load_digits(seed=0)
try:
    from sigdist.training import train_population
except ImportError:  # no torch: the predictions only
    train_population = None

# %%
# The prediction: the mean cosine of two inputs at depth L (the data's mean pairwise cosine in) and the
# spread :math:`\log(q_{95}/q_{05})` of :math:`|x_L|^2 / |x_0|^2`, both at initialisation.
predictions = {}
for init in ("he", "looks_linear"):
    cos0 = input_cosine(data.x_train, sharing="none" if init == "he" else init, seed=0)
    for depth in depths:
        net = getattr(Network, init)([data.input_width] + [width] * depth)
        p = cosine_prediction(net, cos0, n_networks=500 if QUICK else 4000, seed=depth)
        predictions[init, depth] = p
        print(f"{init:12s} L = {depth:2d}: E[cos_L] = {p.final_cosine:.3f}, retention = {p.cosine_retention:.3f}, "
              f"log spread = {p.log_spread:.3f}")

# %%
# The outcome: test accuracy after a fixed budget of SGD (the paper's schedule shape, lr0 / L), mean and
# 95% interval across seeds; every seed sees the same mini-batches.
accuracy = {}
if train_population is not None:
    for (init, depth), p in predictions.items():
        net = getattr(Network, init)([data.input_width] + [width] * depth)
        r = train_population(net, data, seeds, lr=0.1 / depth, steps=steps, eval_every=steps, progress=False,
                             schedule=lambda t: (1 + 30 * math.exp(-t / steps)) / 31, device="cpu")
        s = r.final_summary("test_accuracy")
        accuracy[init, depth] = (s.mean, s.mean - s.low)
        print(f"{init:12s} L = {depth:2d}: test accuracy {s.mean:.3f} +- {s.mean - s.low:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for init in ("he", "looks_linear"):
    ax1.plot(depths, [predictions[init, d].cosine_retention for d in depths], "o-", label=init)
    if accuracy:
        ax2.errorbar(depths, [accuracy[init, d][0] for d in depths], yerr=[accuracy[init, d][1] for d in depths],
                     marker="o", capsize=3, label=init)
ax1.set_xlabel("depth L")
ax1.set_ylabel("predicted (1 - E cos_L) / (1 - cos_0)")
ax1.set_title("prediction at initialisation")
ax1.legend()
ax2.set_xlabel("depth L")
ax2.set_ylabel(f"test accuracy after {steps} SGD steps")
ax2.set_title(f"digits, width {width}, {seeds} seeds" if accuracy else "training needs torch")
if accuracy:
    ax2.legend()
fig.tight_layout()
plt.show()
print("retention (He, deepest):", np.round(predictions["he", depths[-1]].cosine_retention, 3))
