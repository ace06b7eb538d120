"""Every Python block of README.md runs as written (in order, in one namespace, as a reader would)."""

import inspect
import pathlib
import re
import warnings

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def _needs_torch(block):
    return "montecarlo" in block or "torch" in block


def test_readme_has_python_blocks():
    assert len(_python_blocks()) >= 2


def test_every_readme_python_block_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    namespace = {"__name__": "__readme__"}
    ran = 0
    for i, block in enumerate(_python_blocks()):
        if _needs_torch(block) and not have_torch:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a README example must not warn about its own accuracy
            try:
                exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
            except Exception as err:  # noqa: BLE001 - the message says which block failed
                pytest.fail(f"README python block {i + 1} fails: {type(err).__name__}: {err}")
        ran += 1
    assert ran >= 1


def test_plotting_keeps_the_callers_matplotlib_backend(tmp_path):
    import matplotlib

    import sigdist
    from sigdist.plotting import plot_layer_laws

    before = matplotlib.get_backend()
    laws = sigdist.layer_laws(sigdist.Network.constant(10, 2, 0.2), 1.0)
    if "path" in inspect.signature(plot_layer_laws).parameters:  # plot_layer_laws(laws, path, ...) writes the file
        plot_layer_laws(laws, tmp_path / "laws.png")
    else:  # plot_layer_laws(laws, samples=None, ax=None, ...) returns the Axes; the caller saves
        plot_layer_laws(laws).figure.savefig(tmp_path / "laws.png")
    assert matplotlib.get_backend() == before
    assert (tmp_path / "laws.png").stat().st_size > 1000
