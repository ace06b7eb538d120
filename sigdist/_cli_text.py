"""The words of the ``sigdist`` command: what each subcommand computes and what each printed column means.

One place for them, so that the legend under a table, ``--explain`` and the JSON/CSV output say the same thing.
"""

from __future__ import annotations

import textwrap

__all__ = ["COLUMNS", "EXPLAIN", "legend_line", "explain_text"]

# command -> [(column name as printed, its meaning in one phrase)]
COLUMNS = {
    "demo": [
        ("l", "layer"),
        ("mean", "exact E[|x_l|^2]"),
        ("std", "exact standard deviation of |x_l|^2"),
        ("q05", "exact 5% quantile"),
        ("q50", "exact median"),
        ("q95", "exact 95% quantile"),
        ("P(z=0)", "exact probability that the signal is exactly zero (every relu of a layer off)"),
        ("mass lost", "probability the numerical grid lost (an accuracy report; 0 is perfect)"),
        ("MC mean", "mean of |x_l|^2 over the simulated real networks"),
        ("z-score", "(MC mean - exact mean) / its standard error: |z| < 3 agrees"),
        ("KS dist", "Kolmogorov-Smirnov distance between the simulated and the exact distribution function"),
        ("KS p", "p-value of that distance (small values would reject the exact law)"),
    ],
    "spectrum": [
        ("m", "exponent of the power function y^m"),
        ("lambda_m", "eigenvalue of the transition operator T for y^m (inf where it overflows)"),
        ("log lambda_m", "its natural logarithm"),
    ],
    "cosine": [
        ("l", "layer"),
        ("mean cos", "Monte Carlo mean of the cosine similarity of the two signals after layer l"),
        ("s.e.", "standard error of that mean"),
        ("q05", "5% quantile of the cosine over networks"),
        ("q50", "median"),
        ("q95", "95% quantile"),
        ("c-map", "the mean-field (infinite-width) cosine: the c-map iterated l times (Poole et al. 2016)"),
    ],
    "rank": [
        ("quantity", "what is averaged over the recorded steps of all chains"),
        ("mean", "the long-run average"),
        ("s.e.", "its standard error by batch means (accounts for the correlation between steps)"),
        ("tau_int", "integrated autocorrelation time in steps: roughly, steps per independent sample"),
    ],
    "lengths": [
        ("quantity", "E[M_d], E[M_d^2], Var[M_d]: moments of the last layer's length M_d = |act_d|^2 / n_d "
                     "(FM1); log_E[M_d^2]: its log; sum_1/n_j: beta, the sum of reciprocal widths; "
                     "E[empirical_variance]: mean over networks of the variance of (M_1, ..., M_d) across layers "
                     "(FM2); thm5_*: Theorem 5's printed bounds on E[M_d^2] with constants C1, C2; upper_holds: "
                     "whether the exact E[M_d^2] obeys the upper bound"),
        ("value", "exact value"),
    ],
}

EXPLAIN = {
    "demo": (
        "Computes the exact law of the squared signal norm z = |x_l|^2 after each layer l of a He-initialised "
        "relu network of constant width N (sigma_w^2 = 2/N, no bias, |x_0|^2 = 1), by the transition operator "
        "p_l = T_l p_(l-1) of Burkholz & Dubatovka (2019), Prop. 1 (eq. 1) with the relu kernel of eq. 7, and "
        "checks it against the same network simulated with real Gaussian weight matrices. This is Fig. 1a of the "
        "paper. The figure shows the exact densities of every layer and a histogram of the simulated last layer."),
    "spectrum": (
        "Computes the eigenvalues lambda_m of the transition operator T of one layer without bias "
        "(sigma_b = 0) for the power functions y^m: T maps y^m to lambda_m y^m with lambda_m = "
        "E[(sigma_w^2 S)^-(m+1); S > 0], S a chi-square mixture (Burkholz & Dubatovka 2019, Prop. 4, eq. 8; "
        "the printed eq. 8 has 2^(m+1) for 2^-(m+1), see docs/errata.md). Where lambda_m < 1 (the critical "
        "window) the moment E[z^-(m+1)] shrinks with depth; for He (sigma_w^2 N / 2 = 1) the window starts "
        "at m = -2 exactly. The tail index alpha (Kesten) printed after the table belongs to the same layer "
        "with a bias sigma_b > 0 added: its stationary law has P(z > t) ~ C t^-alpha."),
    "cosine": (
        "Samples the cosine similarity cos(x_l, x'_l) of two inputs with unit norm and cosine --cos propagated "
        "through the same random relu network (the exact two-input chain of the layers' scalar-product law, "
        "sigdist.correlation.pair_samples; Burkholz & Dubatovka 2019, Prop. 2 and eq. 4), and prints per layer "
        "the mean, "
        "its standard error and quantiles over networks, beside the mean-field prediction: the c-map of "
        "Poole et al. (2016) iterated l times, which is the infinite-width limit."),
    "rank": (
        "Runs the linear batch-norm chain of Daneshmand et al. (2020), eq. 1: H_(l+1) = BN((I + gamma W_l) H_l) "
        "for a batch of N inputs of width d, in several independent chains, and reports the long-run averages "
        "of the rank measure r(H) = d^2 / |M|_F^2 (M = H H^T / N after BN; eq. 2) and of the soft rank "
        "rank_tau(H), the number of eigenvalues of M at least tau (eq. 3). Lemma 1 says rank_tau(H) >= "
        "(1 - tau)^2 r(H); a violation counts a recorded step where that fails (expected 0). The first "
        "--burn-in steps are discarded; standard errors come from batch means, valid when the run is much "
        "longer than the integrated autocorrelation time (a warning says when it is not)."),
    "lengths": (
        "Computes exactly the moments of the normalised squared activation length M_l = |act_l|^2 / n_l of a "
        "fully connected relu network (Hanin & Rolnick 2018), for the hidden widths given, and compares E[M_d^2] "
        "with Theorem 5's printed bounds exp(beta/2) <= E[M_d^2] <= C1 exp(C2 beta), beta = sum_j 1/n_j. "
        "Hanin & Rolnick's two failure modes at initialisation: FM1, a mean length E[M_d] that explodes or "
        "vanishes with depth (avoided by the He variance 2 / fan-in: E[M_d] = M_0); FM2, large fluctuations of "
        "M_l from layer to layer in one network, measured by the mean empirical variance of (M_1, ..., M_d) "
        "(E[empirical_variance]), which grows with beta: keep the sum of reciprocal widths small."),
}


def legend_line(command, width=110):
    """``legend: col = meaning; ...`` wrapped to ``width`` characters (printed once under a table)."""
    text = "legend: " + "; ".join(f"{name} = {meaning}" for name, meaning in COLUMNS[command])
    return textwrap.fill(text, width, subsequent_indent="  ")


def explain_text(command, width=100):
    """The ``--explain`` paragraph and a line per column."""
    lines = [textwrap.fill(EXPLAIN[command], width), "", "Columns:"]
    for name, meaning in COLUMNS[command]:
        lines.append(textwrap.fill(f"{name}: {meaning}", width, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(lines)
