r"""The initialisers users call, as sigdist specs: their weight law and the variance of one weight.

Hanin & Rolnick (2018, Theorem 1, Fig. 1a) tie FM1 to :math:`\mathrm{fan_{in}}\,E[W^2] = 2`. The table
below is what the common initialisers draw; the laws and their moments come from the registry
:mod:`sigdist.weights`.

=========================  ======================  ==========================================================
name                       weight law              :math:`E[W^2]`
=========================  ======================  ==========================================================
``"he_normal"``            ``"gaussian"``          :math:`2/\mathrm{fan_{in}}`
``"he_normal_truncated"``  ``"truncated_normal"``  :math:`0.7737 \cdot 2/\mathrm{fan_{in}}` (cut at
                                                   :math:`\pm 2\sigma`, not rescaled: PyTorch's
                                                   ``trunc_normal_``, Keras's ``he_normal`` up to 2.1)
``"he_uniform"``           ``"uniform"``           :math:`2/\mathrm{fan_{in}}`
``"he_normal_2x"``         ``"gaussian"``          :math:`4/\mathrm{fan_{in}}` (twice He, Fig. 1a)
``"lecun_normal"``         ``"gaussian"``          :math:`1/\mathrm{fan_{in}}`
``"lecun_uniform"``        ``"uniform"``           :math:`1/\mathrm{fan_{in}}`
``"glorot_normal"``        ``"gaussian"``          :math:`2/(\mathrm{fan_{in}} + \mathrm{fan_{out}})`
``"glorot_uniform"``       ``"uniform"``           :math:`2/(\mathrm{fan_{in}} + \mathrm{fan_{out}})`
=========================  ======================  ==========================================================
"""

from __future__ import annotations

from ._checks import check_width
from .network import Layer, Network
from .weights import get_weight_law

__all__ = ["KNOWN_INITIALIZERS", "initializer_network", "initializer_weight_variance"]

# name -> (weight law, variance numerator, denominator in {"in", "avg"}); the numerator over the fan is the
# variance of the *untruncated* normal for "truncated_normal" (the Layer's sigma_w2)
_INITIALIZERS = {
    "he_normal": ("gaussian", 2.0, "in"),
    "he_normal_truncated": ("truncated_normal", 2.0, "in"),
    "he_uniform": ("uniform", 2.0, "in"),
    "he_normal_2x": ("gaussian", 4.0, "in"),
    "lecun_normal": ("gaussian", 1.0, "in"),
    "lecun_uniform": ("uniform", 1.0, "in"),
    "glorot_normal": ("gaussian", 2.0, "avg"),
    "glorot_uniform": ("uniform", 2.0, "avg"),
}

#: Initialiser names known to :func:`initializer_weight_variance` and :func:`initializer_network`.
KNOWN_INITIALIZERS = tuple(_INITIALIZERS)


def _initializer(name):
    if not isinstance(name, str) or name not in _INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; known: {', '.join(KNOWN_INITIALIZERS)}")
    return _INITIALIZERS[name]


def _sigma_w2(name, fan_in, fan_out):
    """The Layer's ``sigma_w2`` (nominal variance, untruncated for the truncated normal)."""
    _, numerator, mode = _initializer(name)
    fan_in = check_width(fan_in, "fan_in")
    if mode == "avg":
        if fan_out is None:
            raise ValueError(f"initializer {name!r} needs fan_out (an integer >= 1)")
        return numerator / (fan_in + check_width(fan_out, "fan_out"))
    return numerator / fan_in


def initializer_weight_variance(name, fan_in, fan_out=None) -> float:
    r"""The actual variance :math:`E[W^2]` of one weight drawn by a named initialiser.

    Parameters
    ----------
    name : str
        One of :data:`KNOWN_INITIALIZERS` (table in the module docstring).
    fan_in : int
    fan_out : int, optional
        Needed by the Glorot initialisers.

    Returns
    -------
    float
        :math:`E[W^2]` = the nominal variance times the weight law's ``variance_factor``
        (:mod:`sigdist.weights`), as :attr:`sigdist.Layer.weight_variance` reads it. Hanin & Rolnick's
        FM1 criterion is :math:`E[W^2] = 2/\mathrm{fan_{in}}` (Theorem 1);
        :math:`E[M_d] = M_0 \prod_j \mathrm{fan_{in}}_j E[W_j^2] / 2` (Cor. 1).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or a fan that is not an integer ``>= 1``.

    References
    ----------
    Hanin & Rolnick (2018), Theorem 1, Corollary 1, Fig. 1a.

    Examples
    --------
    >>> from sigdist.initializers import initializer_weight_variance
    >>> round(initializer_weight_variance("he_normal_truncated", 100) * 100 / 2, 6)
    0.773741
    """
    law, _, _ = _initializer(name)
    return _sigma_w2(name, fan_in, fan_out) * get_weight_law(law).variance_factor


def initializer_network(name, widths, sigma_b2=0.0) -> Network:
    """A relu :class:`~sigdist.network.Network` ``widths = [N_0, ..., N_L]`` drawn by a named initialiser.

    Each layer carries the initialiser's weight law and its nominal variance ``sigma_w2`` (the untruncated
    one for ``"he_normal_truncated"``, as :class:`~sigdist.network.Layer` expects), so
    :func:`sigdist.montecarlo.simulate` draws exactly what the initialiser draws. ``"he_normal"`` gives
    the network that ``sigdist.as_network(widths)`` gives.

    Raises
    ------
    ValueError
        For an unknown name (listing the known), a width that is not an integer ``>= 1``, or fewer than
        two widths (depth 0).

    Examples
    --------
    >>> from sigdist.initializers import initializer_network
    >>> initializer_network("he_uniform", [4, 6, 4]).depth
    2
    """
    law, _, _ = _initializer(name)
    widths = _check_widths(widths)
    layers = [Layer(widths[j], _sigma_w2(name, widths[j - 1], widths[j]), sigma_b2, "relu", weight_law=law)
              for j in range(1, len(widths))]
    return Network(layers, input_width=widths[0])


def _check_widths(widths):
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise ValueError(f"widths must be a sequence [N_0, N_1, ..., N_L] of integers >= 1, got {widths!r}")
    widths = [check_width(w, f"widths[{i}]") for i, w in enumerate(widths)]
    if len(widths) < 2:
        raise ValueError(f"widths must list N_0 and at least one layer width (depth >= 1), got {widths}")
    return widths
