"""Two inputs through random ReLU networks (Burkholz & Dubatovka Prop. 2, Thm. 5, §3): the public entry point.

The analyses live in one module per concept and are gathered here:

* :mod:`sigdist.relu_pair`: one unit, closed forms in the covariance ``V`` of eq. 4 —
  :func:`orthant_probability`, :func:`correlation_map` (eq. 9), :func:`c_map`,
  :func:`relu_moment`, :class:`ProductLaw` (:func:`product_law`), and of a layer
  :func:`layer_covariance`, :func:`mean_scalar_product` (eq. 10);
* :mod:`sigdist.scalar_product`: :func:`scalar_product_law`, the law of ``<x1, x2>`` after a layer;
* :mod:`sigdist.cosine`: :func:`mean_cosine`, :func:`mean_field_cosines`, :class:`CosineLaw`
  (:func:`cosine_law`);
* :mod:`sigdist.pairs`: :func:`pair_samples`, :func:`shared_pair_samples`, :class:`PairSamples`.

Two inputs are always given as ``y1, y2, y12`` (``|x1|^2``, ``|x2|^2``, ``<x1, x2>``); functions
of one layer take the ``Layer`` first, functions of a network anything :func:`sigdist.as_network` takes.
"""

from .cosine import CosineLaw, cosine_law, mean_cosine, mean_field_cosines
from .pairs import PairSamples, pair_samples, shared_pair_samples
from .relu_pair import (EQ10_APPROXIMATION_WORST_ERROR, ProductLaw, c_map, correlation_map, layer_covariance,
                        mean_scalar_product, orthant_probability, product_law, relu_moment)
from .scalar_product import scalar_product_law

__all__ = ["orthant_probability", "correlation_map", "c_map", "layer_covariance", "mean_scalar_product",
           "relu_moment", "ProductLaw", "product_law", "EQ10_APPROXIMATION_WORST_ERROR", "scalar_product_law",
           "mean_cosine", "mean_field_cosines", "CosineLaw", "cosine_law", "PairSamples", "pair_samples",
           "shared_pair_samples"]
