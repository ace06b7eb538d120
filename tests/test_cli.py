import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from sigdist.cli import build_parser, main

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = {  # fast settings of every subcommand (the suite runs on 2 cores)
    "demo": ["demo", "--width", "10", "--depth", "2", "--networks", "200"],
    "spectrum": ["spectrum", "--width", "20", "--points", "3"],
    "cosine": ["cosine", "--width", "10", "--depth", "2", "--samples", "300"],
    "rank": ["rank", "--width", "8", "--steps", "2000", "--chains", "2"],
    "lengths": ["lengths", "--widths", "10x5"],
}


def _run(argv, capsys):
    assert main(argv) == 0
    return capsys.readouterr()


def _csv_rows(text):
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.reader(io.StringIO("\n".join(lines))))


def test_version_prints_the_package_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sigdist {version('sigdist')}"


@pytest.mark.parametrize("command", sorted(SMALL))
def test_every_option_of_every_subcommand_has_help_that_states_its_default(command):
    import re

    _, subs = build_parser()
    sub = subs[command]
    text = sub.format_help()
    blocks = re.split(r"\n(?=  -)", text.split("options:", 1)[1])
    for action in sub._actions:
        if action.dest in ("help", "explain") or not action.option_strings:
            continue
        block = next(b for b in blocks if b.lstrip().startswith(action.option_strings[0]))
        assert "default" in block, f"{command} {action.option_strings[0]}: {block}"
    for option in ("--plot", "--json", "--csv", "--explain"):
        assert option in text


@pytest.mark.parametrize("command", sorted(SMALL))
def test_explain_says_what_the_subcommand_computes_and_each_column(command, capsys):
    from sigdist._cli_text import COLUMNS

    out = _run([command, "--explain"], capsys).out
    assert len(out) > 300
    for name, _ in COLUMNS[command]:
        assert f"  {name}:" in out


@pytest.mark.parametrize("command", ["spectrum", "cosine", "rank", "lengths"])
def test_every_table_has_a_legend_line(command, capsys):
    out = _run(SMALL[command] + ["--plot", ""], capsys).out
    assert "\nlegend: " in out


@pytest.mark.parametrize("command", sorted(SMALL))
def test_plot_json_and_csv_are_written_by_every_subcommand(command, tmp_path, capsys):
    paths = {k: tmp_path / f"out.{k}" for k in ("png", "json", "csv")}
    _run(SMALL[command] + ["--plot", str(paths["png"]), "--json", str(paths["json"]), "--csv", str(paths["csv"])],
         capsys)
    assert paths["png"].read_bytes()[:8] == PNG
    data = json.loads(paths["json"].read_text())
    assert data["command"] == command and data["rows"] and data["settings"]
    rows = _csv_rows(paths["csv"].read_text())
    assert rows[0] == data["columns"] and len(rows) == len(data["rows"]) + 1
    assert "# " in paths["csv"].read_text().splitlines()[1]  # the settings


def test_json_to_standard_output_is_the_only_thing_there(capsys):
    out = _run(SMALL["lengths"] + ["--json", "-"], capsys).out
    assert json.loads(out)["settings"]["widths"] == ",".join(["10"] * 5)


def test_cosine_json_holds_the_apis_numbers(capsys):
    from sigdist import Network
    from sigdist.correlation import mean_field_cosines, pair_samples

    data = json.loads(_run(["cosine", "--width", "50", "--depth", "3", "--cos", "0.5", "--samples", "4000",
                            "--json", "-"], capsys).out)
    rows = np.array(data["rows"])
    net = Network.constant(50, 3, 2.0 / 50)
    ref = pair_samples(net, 1.0, 1.0, 0.5, n_networks=4000, seed=0, chunk=20_000)  # the CLI's chunk for width 50
    np.testing.assert_allclose(rows[:, 1], ref.cosine_mean, rtol=1e-12)
    np.testing.assert_allclose(rows[:, 2], ref.cosine_mean_se, rtol=1e-12)
    np.testing.assert_allclose(rows[:, 6], mean_field_cosines(net, 1.0, 1.0, 0.5), rtol=1e-12)


def test_cosine_prints_the_same_numbers_as_its_json(capsys):
    out = _run(SMALL["cosine"] + ["--plot", ""], capsys).out
    printed = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    data = json.loads(_run(SMALL["cosine"] + ["--json", "-"], capsys).out)
    assert len(printed) == len(data["rows"]) == 2
    for line, row in zip(printed, data["rows"]):
        assert abs(float(line[1]) - row[1]) <= 0.5e-5 and abs(float(line[6]) - row[6]) <= 0.5e-5


def test_spectrum_prints_eigenvalues_and_the_window(capsys):
    out = _run(["spectrum", "--width", "200", "--sigma-w2", "0.01", "--m-min", "-3", "--m-max", "-1", "--points",
                "3"], capsys).out
    lines = out.splitlines()
    row = next(line for line in lines if line.strip().startswith("-2.0000"))
    assert abs(float(row.split()[1]) - 1.0) < 1e-7  # lambda_{-2} = 1 for He
    assert any(line.startswith("critical window") and "-2" in line for line in lines)
    # the tail index belongs to a layer with a bias: it is not printed as a property of the sigma_b = 0 layer
    alpha = next(line for line in lines if "alpha" in line)
    assert "sigma_b > 0" in alpha


def test_rank_json_holds_the_apis_numbers_and_a_resume_gives_the_same(tmp_path, capsys):
    from sigdist import Network
    from sigdist.rank_chain import RankChain

    ckpt = tmp_path / "c.npz"
    cmd = ["rank", "--width", "16", "--gamma", "0.5", "--steps", "2000", "--chains", "2", "--checkpoint", str(ckpt),
           "--plot", "", "--json", "-"]
    first = json.loads(_run(cmd, capsys).out)
    ref = RankChain(Network.bn_chain(16, gamma=0.5), n_networks=2, seed=0).run(2000, burn_in=200, tau=0.5)
    assert first["rows"][0][:3] == ["r(H)", ref.r_mean, ref.r_mean_se]
    assert first["rows"][1][1] == ref.soft_rank_mean
    again = _run(cmd, capsys)
    assert "resumed" in again.err and json.loads(again.out)["rows"] == first["rows"]


def test_rank_refuses_a_checkpoint_written_with_other_settings(tmp_path, capsys):
    ckpt = str(tmp_path / "c.npz")
    _run(["rank", "--width", "16", "--steps", "300", "--chains", "2", "--checkpoint", ckpt, "--plot", ""], capsys)
    with pytest.raises(SystemExit) as info:
        main(["rank", "--width", "8", "--gamma", "0.1", "--steps", "300", "--chains", "2", "--checkpoint", ckpt,
              "--plot", ""])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--checkpoint" in err and "--width 8 (checkpoint: 16)" in err and "--gamma 0.1 (checkpoint: 0.5)" in err


def test_rank_warns_when_the_run_is_short_for_its_autocorrelation_time(capsys):
    short = _run(["rank", "--steps", "10", "--plot", ""], capsys).err
    assert "steps 10" in short and "50 x integrated autocorrelation time" in short and "unreliable" in short
    long = _run(["rank", "--width", "16", "--steps", "2000", "--chains", "2", "--plot", ""], capsys).err
    assert "warning" not in long
    # a batch of one has r(H) = 1 at every step: its mean is exact however short the run
    constant = _run(["rank", "--width", "4", "--batch", "1", "--steps", "50", "--plot", ""], capsys).err
    assert "warning" not in constant


def test_lengths_prints_the_exact_moments_and_the_widths_as_given(capsys):
    out = _run(["lengths", "--widths", "20x100"], capsys).out
    rows = dict(line.split(None, 1) for line in out.splitlines() if line.strip() and line[0] not in " ln")
    assert float(rows["E[M_d]"]) == 1.0
    assert abs(float(rows["E[M_d^2]"]) / 1.25 ** 100 - 1) < 1e-9
    assert abs(float(rows["sum_1/n_j"]) - 5.0) < 1e-12
    assert rows["upper_holds(C1=C2=4)"].strip() == "False"
    out = _run(["lengths", "--widths", "30,10,30"], capsys).out
    assert "hidden widths 30,10,30" in out and "30..30" not in out


def test_demo_runs_as_a_command_and_writes_a_figure(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sigdist", "demo", "--width", "20", "--depth", "3", "--networks",
                          "300", "--plot", str(tmp_path / "demo.png")], capture_output=True, text=True, check=True,
                         timeout=300)
    lines = out.stdout.splitlines()
    assert any(line.strip().startswith("3 ") for line in lines)
    assert (tmp_path / "demo.png").read_bytes()[:8] == PNG
    # every layer's mean is 1 for He with constant width: the table prints it
    assert sum("1.0000000000" in line for line in lines) == 3
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("argv, option", [
    (["spectrum", "--width", "0"], "--width"),
    (["spectrum", "--width", "-3"], "--width"),
    (["spectrum", "--width", "text"], "--width"),
    (["spectrum", "--points", "1e8"], "--points"),
    (["spectrum", "--points", "100000000000"], "--points"),
    (["spectrum", "--sigma-w2", "nan"], "--sigma-w2"),
    (["spectrum", "--sigma-w2", "0"], "--sigma-w2"),
    (["spectrum", "--m-max", "0"], "--m-max"),
    (["spectrum", "--m-min", "inf"], "--m-min"),
    (["spectrum", "--m-min", "-1", "--m-max", "-2"], "--m-min"),
    (["cosine", "--width", "0"], "--width"),
    (["cosine", "--cos", "1.5"], "--cos"),
    (["cosine", "--cos", "nan"], "--cos"),
    (["cosine", "--sigma-b2", "-1"], "--sigma-b2"),
    (["cosine", "--sigma-w2", "inf"], "--sigma-w2"),
    (["cosine", "--depth", "0"], "--depth"),
    (["cosine", "--sigma-b2", "1e308", "--width", "5", "--depth", "2", "--samples", "100"], "--sigma-b2"),
    (["spectrum", "--sigma-w2", "1e-300", "--points", "2"], "--sigma-w2"),
    (["cosine", "--samples", "1"], "--samples"),
    (["cosine", "--samples", "100000000000000", "--depth", "100"], "--samples"),
    (["demo", "--width", "-3"], "--width"),
    (["demo", "--width", "10000000"], "--width"),
    (["demo", "--networks", "1"], "--networks"),
    (["demo", "--seed", "-1"], "--seed"),
    (["rank", "--seed", str(2**64)], "--seed"),
    (["rank", "--width", "1"], "--width"),
    (["rank", "--width", "10000000", "--chains", "4"], "--width"),
    (["rank", "--gamma", "-1"], "--gamma"),
    (["rank", "--gamma", "nan"], "--gamma"),
    (["rank", "--tau", "2"], "--tau"),
    (["rank", "--tau", "text"], "--tau"),
    (["rank", "--chains", "0"], "--chains"),
    (["rank", "--batch", "0"], "--batch"),
    (["rank", "--steps", "0"], "--steps"),
    (["rank", "--device", "nowhere", "--steps", "10", "--plot", ""], "--device"),
    (["rank", "--steps", "10", "--burn-in", "20", "--plot", ""], "--steps"),
    (["lengths", "--widths", "0x5"], "--widths"),
    (["lengths", "--widths", "5x0"], "--widths"),
    (["lengths", "--widths", "30,x"], "--widths"),
    (["lengths", "--initializer", "xavier"], "--initializer"),
    (["lengths", "--sigma-b2", "inf"], "--sigma-b2"),
])
def test_cli_errors_are_one_line_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"sigdist {argv[0]}: error: ") and option in last


def test_cuda_asked_for_where_there_is_none_is_an_error_about_the_device(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(SystemExit) as info:
        main(["rank", "--device", "cuda", "--steps", "10", "--plot", ""])
    assert info.value.code == 2 and "argument --device:" in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_library_error_is_reported_without_a_traceback_by_the_command():
    out = subprocess.run([sys.executable, "-m", "sigdist", "lengths", "--initializer", "xavier"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "known: he_normal" in out.stderr


@pytest.mark.parametrize("command, option", [(["rank", "--steps", "2000"], "--checkpoint"),
                                             (["rank", "--steps", "2000"], "--plot"),
                                             (["cosine"], "--json"),
                                             (["lengths"], "--csv"),
                                             (["demo", "--width", "10", "--depth", "2"], "--plot")])
def test_cli_refuses_an_unwritable_output_path_before_any_work(command, option, tmp_path, capsys, monkeypatch):
    from sigdist import correlation, demo, rank_chain

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(rank_chain.RankChain, "__init__", lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr(demo, "layer_laws", lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr(correlation, "pair_samples", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit):
        main(command + [option, str(blocker / "out")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"sigdist {command[0]}: error: " + option + " must be a writable file path")


def test_spectrum_and_lengths_json_hold_the_apis_numbers(capsys):
    import math

    from sigdist import Layer
    from sigdist.initializers import initializer_network
    from sigdist.lengths import length_moments
    from sigdist.spectrum import critical_window, log_mellin_eigenvalue, tail_index

    data = json.loads(_run(["spectrum", "--width", "30", "--points", "4", "--json", "-"], capsys).out)
    layer = Layer(30, 2.0 / 30)
    m = np.array([row[0] for row in data["rows"]])
    np.testing.assert_allclose(m, np.linspace(-4.0, -0.55, 4), rtol=1e-15)
    np.testing.assert_allclose([row[2] for row in data["rows"]], log_mellin_eigenvalue(layer, m), rtol=1e-14)
    assert data["m_crit"] == critical_window(layer).m_crit and data["tail_index"] == tail_index(layer)
    assert data["settings"]["sigma_b2"] == 0.0
    data = json.loads(_run(["lengths", "--widths", "30,10,30", "--json", "-"], capsys).out)
    rows = dict((row[0], row[1]) for row in data["rows"])
    ref = length_moments(initializer_network("he_normal", [30, 30, 10, 30]), x0=np.ones(30))
    assert rows["E[M_d^2]"] == ref.length_second_moment[-1] and rows["sum_1/n_j"] == ref.sum_reciprocal_widths
    assert math.isclose(rows["Var[M_d]"], ref.length_variance[-1], rel_tol=1e-15)
    assert data["settings"]["widths"] == "30,10,30"


def test_every_subcommand_offers_a_figure_and_machine_readable_output():
    _, subs = build_parser()
    assert {"demo", "spectrum", "cosine", "rank", "lengths", "sweep", "jacobian"} <= set(subs)
    for command, sub in subs.items():
        text = sub.format_help()
        assert "--plot" in text and "--json" in text, command
