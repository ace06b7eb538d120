"""``sigdist train``: the learning-curve table with intervals beside the prediction, and one-line option errors."""

import json

import pytest

from sigdist.cli import main

TINY = ["train", "--depth", "2", "--width", "8", "--seeds", "3", "--steps", "6", "--eval-every", "3",
        "--data", "mixture", "--lr", "0.05"]


@pytest.mark.parametrize("argv, option", [
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--seeds", "1"], "--seeds"),
    (["train", "--steps", "0"], "--steps"),
    (["train", "--init", "orthogonal_he"], "--init"),
    (["train", "--data", "mnist"], "--data"),
    (["train", "--init", "gsm", "--batch-norm"], "--batch-norm"),
    (["train", "--init", "gsm", "--width", "7"], "--width"),
    (["train", "--batch-norm", "--pretrain", "rank"], "--pretrain"),
    (["train", "--batch-norm", "--pretrain", "rank_rescaled"], "--pretrain"),
    (["train", "--steps", "10", "--eval-every", "11"], "--eval-every"),
    (["train", "--momentum", "1"], "--momentum"),
    (["train", "--level", "1"], "--level"),
    (["train", "--plot", "/nonexistent-folder/x.png"], "--plot"),
    (["train", "--json", "/nonexistent-folder/x.json"], "--json"),
    (["train", "--optimizer", "adam", "--momentum", "0.9", "--depth", "1", "--width", "4", "--seeds", "2",
      "--steps", "1", "--no-prediction"], "--momentum"),
    (["train", "--device", "gpu", "--depth", "1", "--width", "4", "--seeds", "2", "--steps", "1", "--no-prediction"],
     "--device"),
    (["train", "--batch-size", "100000", "--depth", "1", "--width", "4", "--seeds", "2", "--steps", "1",
      "--no-prediction"], "--batch-size"),
])
def test_bad_options_give_one_line_naming_the_option(argv, option, capsys):
    if "--no-prediction" in argv:
        pytest.importorskip("torch")  # the library's own check, reached after the data are loaded
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sigdist train: error: ") and option in last


def test_explain_names_the_prediction_and_the_columns(capsys):
    assert main(["train", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "r(H_L)" in out and "cosine" in out and "Student-t" in out


def test_a_tiny_run_prints_the_curves_with_intervals_and_the_prediction(capsys):
    pytest.importorskip("torch")
    assert main(TINY) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("sigdist train: init=he") and "seeds=3" in lines[0]
    table = [line.split() for line in lines[2:5]]
    assert [int(row[0]) for row in table] == [0, 3, 6]
    for row in table:  # the mean lies in its interval
        mean, low, high = float(row[1]), float(row[2].strip("[,")), float(row[3].strip("],"))
        assert low <= mean <= high
    assert "final test accuracy" in out and "prediction at initialisation: input_cosine=" in out
    assert "rank_bound=" in out and "sum_reciprocal_widths=0.25" in out and "length_ratio=1," in out  # He: E[M_d] = M_0


def test_json_carries_rows_final_numbers_and_prediction(capsys, tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "train.json"
    plot = tmp_path / "train.png"
    assert main(TINY + ["--init", "looks_linear", "--width", "64", "--json", str(path), "--plot", str(plot)]) == 0
    data = json.loads(path.read_text())
    assert data["command"] == "train" and data["settings"]["init"] == "looks_linear"
    assert len(data["rows"]) == 3 and len(data["rows"][0]) == len(data["columns"])
    assert data["final"]["seeds"] == 3 and 0 <= data["final"]["test_accuracy"] <= 1
    assert data["prediction"]["log_spread"] == 0.0  # looks-linear: |x_L|^2 = |x_0|^2 exactly
    assert "rank_bound" not in data["prediction"]   # r(H) of shared networks is not predicted
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_csv_to_standard_output_moves_the_table_to_standard_error(capsys):
    pytest.importorskip("torch")
    assert main(TINY + ["--csv", "-", "--no-prediction"]) == 0
    captured = capsys.readouterr()
    rows = captured.out.strip().splitlines()
    assert rows[0].startswith("step,loss,loss_low") and len(rows) == 4
    assert "final test accuracy" in captured.err
