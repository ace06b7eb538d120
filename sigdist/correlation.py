r"""Two inputs through random networks (Burkholz & Dubatovka Prop. 2, Thm. 5, §3): the public entry point.

The analyses live in one module per concept and are gathered here:

* :mod:`sigdist.pair_moments`: one unit, any activation — the mixed moments
  :func:`activation_moments` of :math:`(\phi(h_1), \phi(h_2))` by quadrature, :func:`unit_moments`
  (means and covariance of one unit's pair state), :func:`layer_covariance` (eq. 4);
* :mod:`sigdist.relu_pair`: one unit, relu's closed forms in ``V`` —
  :func:`orthant_probability`, :func:`relu_moment`, :class:`ProductLaw` (:func:`product_law`) —
  and for any activation (relu closed, others by quadrature) :func:`correlation_map` (eq. 9),
  :func:`c_map` (Poole et al. 2016), and of a layer :func:`mean_scalar_product` (eq. 10);
* :mod:`sigdist.scalar_product`: :func:`scalar_product_law`, the law of ``<x1, x2>`` after a relu layer;
* :mod:`sigdist.cosine`: :func:`mean_cosine`, :func:`mean_field_cosines`, :class:`CosineLaw`
  (:func:`cosine_law`);
* :mod:`sigdist.pairs`: :func:`pair_samples`, :func:`shared_pair_samples`, :class:`PairSamples`.

Two inputs are always given as ``y1, y2, y12`` (``|x1|^2``, ``|x2|^2``, ``<x1, x2>``); functions
of one layer take the ``Layer`` first, functions of a network anything :func:`sigdist.as_network` takes.
"""

from .cosine import CosineLaw, cosine_law, mean_cosine, mean_field_cosines
from .pair_moments import activation_moments, layer_covariance, unit_moments
from .pairs import PairSamples, pair_samples, shared_pair_samples
from .relu_pair import (EQ10_APPROXIMATION_WORST_ERROR, ProductLaw, c_map, correlation_map, mean_scalar_product,
                        orthant_probability, product_law, relu_moment)
from .scalar_product import scalar_product_law

__all__ = ["activation_moments", "unit_moments", "orthant_probability", "correlation_map", "c_map",
           "layer_covariance", "mean_scalar_product", "relu_moment", "ProductLaw", "product_law", "EQ10_APPROXIMATION_WORST_ERROR", "scalar_product_law",
           "mean_cosine", "mean_field_cosines", "CosineLaw", "cosine_law", "PairSamples", "pair_samples",
           "shared_pair_samples"]
