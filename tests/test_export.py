"""Export of laws and results: JSON that parses and keeps every number, CSV numpy reads, netCDF round trips."""

import json
import math

import numpy as np
import pytest

import sigdist as sd
from sigdist import Layer, Network
from sigdist._export import laws_to_xarray
from sigdist.grid import LogGrid
from sigdist.montecarlo import smc_moment
from sigdist.stationary import DiscreteSpectrum, MixingDepth

xr = pytest.importorskip("xarray")

Z = np.array([0.25, 0.5, 1.0, 2.0, 4.0])


def _strict_json(text):
    """Parse ``text`` refusing the non-standard constants NaN, Infinity and -Infinity."""
    def refuse(constant):
        raise AssertionError(f"invalid JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def law():
    return sd.squared_norm_law(Network.he([20] * 4))


@pytest.fixture(scope="module")
def stationary():
    return sd.stationary_law(Layer(2, 0.45, sigma_b2=1.0), tol=1e-4)


def test_law_json_keeps_the_cdf_exactly(law):
    obj = _strict_json(law.to_json(z=Z))
    assert obj["type"] == "SquaredNormLaw"
    assert obj["data"]["z"] == Z.tolist()
    assert obj["data"]["cdf"] == law.cdf(Z).tolist()  # repr of a float round-trips bit for bit
    # logsf is log(sf) where sf is a normal float: within the law's own error, relative to sf
    assert np.all(np.abs(np.array(obj["data"]["logsf"]) - law.logsf(Z)) <= law.error_estimate / law.sf(Z))
    assert obj["attrs"]["atom"] == law.atom and obj["attrs"]["mass_lost"] == law.mass_lost
    assert obj["attrs"]["error_estimate"] == law.error_estimate and obj["attrs"]["label"] == law.label
    assert obj["attrs"]["mean"] == pytest.approx(1.0, rel=1e-12)  # a He network keeps E|x|^2 = |x_0|^2


def test_law_json_is_written_to_a_path(law, tmp_path):
    path = tmp_path / "law.json"
    assert law.to_json(path, z=Z) is None
    assert _strict_json(path.read_text())["data"]["sf"] == law.sf(Z).tolist()


def test_law_csv_reads_back_with_numpy(law, tmp_path):
    path = tmp_path / "law.csv"
    law.to_csv(path, z=Z)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# type=SquaredNormLaw") and "mass_lost=" in lines[0]
    assert lines[1] == "z,pdf,cdf,sf,logsf"
    table = np.loadtxt(path, delimiter=",", skiprows=2)
    np.testing.assert_array_equal(table[:, 0], Z)
    np.testing.assert_array_equal(table[:, 2], law.cdf(Z))
    np.testing.assert_array_equal(table[:, 1], law.pdf(Z))


def test_the_default_grid_covers_the_law_to_its_millionth_tails(law):
    ds = law.to_xarray()
    z = ds.z.values
    assert float(ds.cdf[0]) <= 1e-6 * 1.01 + law.atom and float(ds.sf[-1]) == pytest.approx(1e-6, rel=1e-3)
    assert np.all(np.diff(z) > 0) and z.size >= 200
    np.testing.assert_array_equal(ds.cdf.values, law.cdf(z))
    assert set(ds.data_vars) == {"pdf", "cdf", "sf", "logsf"}


def test_a_heavy_tailed_law_gets_a_log_spaced_grid_with_its_atom(stationary):
    assert stationary.isf(1e-3) / stationary.median() > 20  # the stationary law has a power tail
    z = stationary.to_xarray().z.values
    assert z[0] == 0.0 and stationary.atom > 0  # the atom's point leads
    ratios = z[2:] / z[1:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert "tail_index" in stationary.to_xarray().attrs


def test_a_light_law_gets_an_evenly_spaced_grid():
    law = sd.squared_norm_law(Network.he([100] * 11))
    z = law.to_xarray().z.values
    np.testing.assert_allclose(np.diff(z), z[1] - z[0], rtol=1e-6)


class _Pareto(sd.Law):
    """P(X > x) = x^-1.5 on [1, inf): a finite mean, an infinite variance."""

    _support = (1.0, math.inf)
    label = "pareto"

    def _cdf(self, x):
        return 1.0 - x ** -1.5

    def _sf(self, x):
        return x ** -1.5

    def _pdf(self, x):
        return 1.5 * x ** -2.5

    def _moment(self, order):
        return 1.5 / (1.5 - order) if order < 1.5 else math.inf


def test_an_infinite_moment_is_left_out_of_the_attributes_and_the_grid_is_logarithmic():
    law = _Pareto()
    ds = law.to_xarray()
    assert ds.attrs["mean"] == 3.0 and "var" not in ds.attrs and math.isinf(law.var())
    obj = _strict_json(law.to_json())
    assert "var" not in obj["attrs"] and obj["attrs"]["label"] == "pareto"
    z = ds.z.values
    assert z[0] == pytest.approx(1.0, rel=1e-6) and z[-1] == pytest.approx(1e4, rel=1e-6)  # 1e-6 tails
    np.testing.assert_allclose(z[1:] / z[:-1], (z[1] / z[0]), rtol=1e-9)


def test_layer_laws_stack_on_a_layer_dimension():
    laws = sd.layer_laws(Network.he([10] * 5))
    ds = laws_to_xarray(laws, z=Z)
    assert ds.sizes == {"layer": 4, "z": Z.size}
    for l, one in enumerate(laws, start=1):
        np.testing.assert_array_equal(ds.cdf.sel(layer=l).values, one.cdf(Z))
        assert float(ds.atom.sel(layer=l)) == one.atom and str(ds.label.sel(layer=l).values) == one.label
    default = laws_to_xarray(laws)
    assert float(default.sf.sel(layer=4)[-1]) <= 1.01e-6 and float(default.cdf.sel(layer=1)[0]) <= 1.01e-6 + laws[0].atom


def test_a_bad_grid_is_refused_naming_z(law):
    with pytest.raises(ValueError, match="z"):
        law.to_xarray(z=[1.0, np.nan])


def test_law_repr_is_one_short_line(law, stationary):
    for one in (law, stationary, sd.EmpiricalLaw(np.arange(1.0, 1e5))):
        text = repr(one)
        assert "\n" not in text and len(text) < 160


def test_result_json_keeps_nan_and_inf_as_valid_json():
    res = MixingDepth(depth=3, spectral_rate=math.nan, distances=np.array([math.inf, 0.5, math.nan]), eps=1e-3)
    text = res.to_json()
    json.dumps(_strict_json(text), allow_nan=False)
    obj = _strict_json(text)
    assert obj["data"]["distances"] == ["inf", 0.5, None] and obj["data"]["spectral_rate"] is None
    assert obj["dims"] == {"distances": ["layer"]} and obj["type"] == "MixingDepth"


def test_a_result_with_an_infinite_moment_survives_json():
    res = sd.stationary_moments(Layer(4, 0.45, sigma_b2=1.0))  # tail index 1.2: E[z^2] = inf
    obj = _strict_json(res.to_json())
    assert obj["data"]["second_moment"] == "inf" and obj["data"]["first_moment"] == pytest.approx(res.first_moment)


def test_result_csv_is_the_per_layer_table(tmp_path):
    res = smc_moment(Network.he([5] * 4), n_networks=100, n_replicates=3, seed=0)
    path = tmp_path / "smc.csv"
    res.to_csv(path)
    text = path.read_text().splitlines()
    assert "layer,estimate,estimate_se" in text
    table = np.loadtxt(path, delimiter=",", comments="#", skiprows=text.index("layer,estimate,estimate_se") + 1)
    np.testing.assert_array_equal(table[:, 0], np.arange(1, 4))
    np.testing.assert_array_equal(table[:, 1], res.estimate)
    np.testing.assert_array_equal(table[:, 2], res.estimate_se)
    assert any(line.startswith("# power = 2.0") for line in text)
    assert any("replicates" in line and "to_netcdf" in line for line in text)  # what the table leaves out, said


def test_a_result_that_is_no_table_refuses_csv_pointing_to_netcdf():
    with pytest.raises(ValueError, match="to_netcdf"):
        sd.critical_window(Layer(4, 0.5)).to_csv()


def test_netcdf_round_trips_the_numbers(tmp_path):
    res = smc_moment(Network.he([5] * 4), n_networks=100, n_replicates=3, seed=0)
    path = tmp_path / "smc.nc"
    res.to_netcdf(path)
    with xr.open_dataset(path, engine="scipy") as back:
        np.testing.assert_array_equal(back.estimate.values, res.estimate)
        np.testing.assert_array_equal(back.replicates.values, res.replicates)
        np.testing.assert_array_equal(back.layer.values, np.arange(1, 4))
        assert float(back.power) == 2.0


def test_a_complex_spectrum_goes_to_netcdf_and_csv_as_real_and_imaginary_parts(tmp_path):
    vals = np.array([1.0 + 0j, 0.5 + 0.25j, 0.5 - 0.25j])
    res = DiscreteSpectrum(eigenvalues=vals, eigenvectors=np.eye(4, 3) * (1 + 1j), grid=LogGrid(0.0, 0.5, 3))
    path = tmp_path / "spectrum.nc"
    res.to_netcdf(path)
    with xr.open_dataset(path, engine="scipy") as back:
        np.testing.assert_array_equal(back.eigenvalues_real.values + 1j * back.eigenvalues_imag.values, vals)
    obj = _strict_json(res.to_json())
    assert obj["data"]["eigenvalues"] == {"real": [1.0, 0.5, 0.5], "imag": [0.0, 0.25, -0.25]}
    assert "eigenvalues_imag" in res.to_csv()


def test_a_rank_chain_result_exports_its_per_network_table_and_trace():
    res = sd.RankChain(Network.bn_chain(4, gamma=0.5), n_networks=3, seed=0).run(200, burn_in=20, progress=False)
    obj = _strict_json(res.to_json())
    assert obj["data"]["r_mean"] == res.r_mean and obj["data"]["trace_r"] == res.trace_r.tolist()
    lines = res.to_csv().splitlines()
    header = next(line for line in lines if not line.startswith("#"))
    assert header.split(",")[:3] == ["network", "r_network_means", "soft_rank_network_means"]
    ds = res.to_xarray()
    assert ds.r_network_means.values.tolist() == res.r_network_means.tolist()


def test_law_netcdf_round_trips_the_table(law, tmp_path):
    import xarray as xr

    path = tmp_path / "law.nc"
    law.to_netcdf(path, z=[0.5, 1.0, 2.0])
    with xr.open_dataset(path, engine="scipy") as ds:
        assert np.array_equal(ds.cdf.values, law.cdf(np.array([0.5, 1.0, 2.0])))
        assert ds.attrs["label"] == law.label


def test_the_cli_writes_infinities_as_the_glossary_says():
    from sigdist._cli_report import Table

    table = Table("spectrum", [], {"width": 4}, [[1.0, math.inf, math.nan]], ["g"] * 3, columns=["m", "a", "b"])
    assert json.loads(json.dumps(table.as_dict(), allow_nan=False))["rows"] == [[1.0, "inf", None]]
