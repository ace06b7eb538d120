"""Collection rules for the whole repository: the doctests under sigdist/ and the tests under tests/.

Without torch (an optional extra), the modules that import it at import time are not collected for
their doctests; the tests that need torch skip themselves (``pytest.importorskip``).
"""

try:
    import torch  # noqa: F401
except ImportError:
    collect_ignore = ["sigdist/_torch_io.py", "sigdist/montecarlo/_torch.py", "sigdist/_jacobian_torch.py",
                      "sigdist/training/_population.py"]
