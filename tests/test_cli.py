import subprocess
import sys

import numpy as np
import pytest


def test_demo_runs_and_writes_a_figure(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "sigdist", "demo", "--width", "20", "--depth", "3", "--networks", "300",
         "--figure", str(tmp_path / "demo.png")],
        capture_output=True, text=True, check=True, timeout=300,
    )
    lines = out.stdout.splitlines()
    assert any(line.strip().startswith("3 ") for line in lines)
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    # every layer's mean is 1 for He with constant width: the table prints it
    assert sum("1.0000000000" in line for line in lines) == 3


def test_demo_rejects_bad_arguments():
    out = subprocess.run([sys.executable, "-m", "sigdist", "demo", "--width", "0"], capture_output=True, text=True)
    assert out.returncode != 0 and "width" in out.stderr


def test_spectrum_command_prints_eigenvalues_and_the_window():
    out = subprocess.run([sys.executable, "-m", "sigdist", "spectrum", "--width", "200", "--sigma-w2", "0.01",
                          "--m-min", "-3", "--m-max", "-1", "--points", "3"],
                         capture_output=True, text=True, check=True, timeout=120)
    lines = out.stdout.splitlines()
    row = next(line for line in lines if line.strip().startswith("-2.0000"))
    assert abs(float(row.split()[1]) - 1.0) < 1e-7  # lambda_{-2} = 1 for He
    assert any(line.startswith("critical window") and "-2" in line for line in lines)
    bad = subprocess.run([sys.executable, "-m", "sigdist", "spectrum", "--m-max", "0"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "diverge" in bad.stderr


def test_cosine_command_prints_the_apis_pair_chain_and_c_map():
    from sigdist import Network
    from sigdist.correlation import mean_field_cosines, pair_samples

    out = subprocess.run([sys.executable, "-m", "sigdist", "cosine", "--width", "50", "--depth", "3",
                          "--cos", "0.5", "--samples", "4000"], capture_output=True, text=True, check=True, timeout=120)
    rows = [line.split() for line in out.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3
    means, ses, cmap = (np.array([float(r[i]) for r in rows]) for i in (1, 2, 6))
    # the same seed through the API (the CLI's chunk for width 50 is 20000): equal up to the printed digits
    net = Network.constant(50, 3, 2.0 / 50)
    ref = pair_samples(net, 1.0, 1.0, 0.5, n_networks=4000, seed=0, chunk=20_000)
    assert np.all(np.abs(means - ref.cosine_mean) <= 0.5e-5)
    assert np.all(np.abs(ses / ref.cosine_mean_se - 1) <= 0.06)  # printed with two significant digits
    assert np.all(np.abs(cmap - mean_field_cosines(net, 1.0, 1.0, 0.5)) <= 0.5e-5)
    bad = subprocess.run([sys.executable, "-m", "sigdist", "cosine", "--cos", "1.5"], capture_output=True, text=True)
    assert bad.returncode != 0 and "y12" in bad.stderr


def test_rank_command_prints_the_long_run_average_and_resumes(tmp_path):
    ckpt = tmp_path / "c.npz"
    cmd = [sys.executable, "-m", "sigdist", "rank", "--width", "16", "--gamma", "0.5", "--steps", "2000",
           "--chains", "2", "--checkpoint", str(ckpt), "--figure", str(tmp_path / "trace.png")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
    line = next(line for line in out.stdout.splitlines() if line.startswith("E[r(H)]"))
    mean, se = float(line.split()[2]), float(line.split()[4])
    # the same seed through the API: equal up to the printed digits
    from sigdist import Network
    from sigdist.rank_chain import RankChain

    ref = RankChain(Network.bn_chain(16, gamma=0.5), n_networks=2, seed=0).run(2000, burn_in=200, tau=0.5)
    assert abs(mean - ref.r_mean) <= 0.5e-6 and abs(se / ref.r_mean_se - 1) <= 0.006
    assert (tmp_path / "trace.png").stat().st_size > 10_000
    again = subprocess.run(cmd[:-2] + ["--figure", ""], capture_output=True, text=True, check=True, timeout=120)
    assert "resuming" in again.stdout and line in again.stdout  # nothing left to run: the same numbers
    bad = subprocess.run([sys.executable, "-m", "sigdist", "rank", "--gamma", "-1"], capture_output=True, text=True)
    assert bad.returncode != 0 and "gamma" in bad.stderr


def test_lengths_command():
    out = subprocess.run([sys.executable, "-m", "sigdist", "lengths", "--widths", "20x100"], capture_output=True,
                         text=True, check=True, timeout=120)
    rows = dict(line.split(None, 1) for line in out.stdout.splitlines() if line.strip())
    assert float(rows["E[M_d]"]) == 1.0
    assert abs(float(rows["E[M_d^2]"]) / 1.25 ** 100 - 1) < 1e-10
    assert abs(float(rows["sum_1/n_j"]) - 5.0) < 1e-12
    assert rows["upper_holds(C1=C2=4)"].strip() == "False"
    bad = subprocess.run([sys.executable, "-m", "sigdist", "lengths", "--initializer", "xavier"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "known: he_normal" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "sigdist", "lengths", "--widths", "0x5"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "width" in bad.stderr


@pytest.mark.parametrize("argv, option", [
    (["spectrum", "--width", "0"], "--width"),
    (["spectrum", "--points", "1e8"], "--points"),
    (["spectrum", "--points", "100000000000"], "--points"),
    (["spectrum", "--sigma-w2", "nan"], "--sigma-w2"),
    (["cosine", "--width", "0"], "--width"),
    (["cosine", "--samples", "100000000000000", "--depth", "100"], "--samples"),
    (["demo", "--width", "-3"], "--width"),
    (["demo", "--width", "10000000"], "--width"),
    (["demo", "--seed", "-1"], "--seed"),
    (["rank", "--seed", str(2**64)], "--seed"),
    (["rank", "--width", "1"], "--width"),
    (["rank", "--width", "10000000", "--chains", "4"], "--width"),
    (["rank", "--steps", "10", "--burn-in", "20", "--figure", ""], "n_steps must be > burn_in"),
])
def test_cli_errors_are_one_line_naming_the_option(argv, option, capsys):
    from sigdist.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert option in err.strip().splitlines()[-1]


@pytest.mark.parametrize("command, option", [(["rank", "--steps", "2000"], "--checkpoint"),
                                             (["rank", "--steps", "2000"], "--figure"),
                                             (["demo", "--width", "10", "--depth", "2"], "--figure")])
def test_cli_refuses_an_unwritable_output_path_before_any_work(command, option, tmp_path, capsys, monkeypatch):
    from sigdist import demo, rank_chain
    from sigdist.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(rank_chain.RankChain, "__init__", lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr(demo, "layer_laws", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit):
        main(command + [option, str(blocker / "out")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("sigdist: error: " + option + " must be a writable file path")
