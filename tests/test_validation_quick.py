"""The validation scripts' quick modes (what CI runs of validation/)."""

import pathlib
import runpy
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TORCH_SCRIPTS = {"rank_pretraining.py", "jacobian_spectra.py", "train_bd_depth.py", "train_d_rank.py",
                 "train_hr_lengths.py"}  # autograd: needs the mc extra


@pytest.mark.parametrize("script", ["accuracy_table.py", "fig1a_layer_laws.py", "fig1b_eigenvalues.py",
                                    "stationary_tails.py", "eigen_convergence.py", "fig2_cosine.py",
                                    "parameter_sharing.py", "fig3a_rank_scaling.py", "fig2_rank_depth.py",
                                    "fig3b_collinear.py", "rank_pretraining.py", "fig1a_initializers.py",
                                    "fig2a_residual.py", "fig3_architectures.py", "fig_tanh_qmap.py", "phase_diagrams.py",
                                    "reference_smooth.py", "narrow_layers.py", "jacobian_spectra.py",
                                    "train_bd_depth.py", "train_d_rank.py", "train_hr_lengths.py"])
def test_quick_mode(script, tmp_path, monkeypatch, capsys):
    if script in TORCH_SCRIPTS:
        pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [script, "--quick"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "validation" / script), run_name="__main__")
    assert exit_info.value.code == 0, capsys.readouterr().out
