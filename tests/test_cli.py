import subprocess
import sys


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
