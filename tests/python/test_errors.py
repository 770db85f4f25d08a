"""Bad input fails at the boundary with the right exception type and a message naming the problem."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

import mriotrace
from mriotrace import math as mm
from conftest import assert_close

pymrio = pytest.importorskip("pymrio")


@pytest.fixture()
def tables():
    """Fresh, writable copies of pymrio's test tables (Z, Y, emissions F and F_Y)."""
    io = pymrio.load_test()
    return {"Z": io.Z.copy(), "Y": io.Y.copy(), "F": io.emissions.F.copy(), "F_Y": io.emissions.F_Y.copy()}


def build(t, **over):
    t = {**t, **over}
    return mriotrace.MRIOSystem(Z=t["Z"], Y=t["Y"], extensions={"emissions": {"F": t["F"], "F_Y": t["F_Y"]}})


def test_error_types_are_standard_ones():
    assert issubclass(mriotrace.InputError, ValueError)
    assert issubclass(mriotrace.NumericError, RuntimeError)
    assert issubclass(mriotrace.FileError, OSError)


def test_mismatched_shapes():
    Z = np.full((4, 4), 0.1)
    with pytest.raises(ValueError, match=r"Y has shape \(3, 2\); expected \(4, 2\)"):
        mriotrace.MRIOSystem.from_arrays(["r1", "r2"], ["a", "b"], ["hh"], Z=Z, Y=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"extensions\['co2'\].F has shape \(1, 3\); expected \(1, 4\)"):
        mriotrace.MRIOSystem.from_arrays(["r1", "r2"], ["a", "b"], ["hh"], Z=Z, Y=np.ones((4, 2)),
                                         extensions={"co2": {"F": np.ones((1, 3))}})


def test_mismatched_labels(tables):
    Y = tables["Y"].rename(index={"food": "fud"}, level="sector")
    with pytest.raises(ValueError, match=r"Y rows do not match Z.index: missing \[\('reg1', 'food'\).*"
                                         r"unexpected \[\('reg1', 'fud'\)"):
        build(tables, Y=Y)
    F = tables["F"].rename(columns={"reg6": "reg7"}, level="region")
    with pytest.raises(ValueError, match=r"extensions\['emissions'\].F columns do not match"):
        build(tables, F=F)


def test_nan_in_Z(tables):
    Z = tables["Z"]
    Z.iloc[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"Z contains nan at row \('reg1', 'electricity'\), "
                                         r"column \('reg1', 'trade'\)"):
        build(tables, Z=Z)


def test_nan_reaches_the_core_check_too():
    """The arrays path goes straight to the C++ check (position, not labels)."""
    Y = np.ones((2, 1))
    Y[1, 0] = np.nan
    with pytest.raises(ValueError, match="Y contains nan at row 1, column 0"):
        mriotrace.MRIOSystem.from_arrays(["r"], ["a", "b"], ["hh"], Z=np.full((2, 2), 0.1), Y=Y)


def test_inf_in_F(tables):
    F = tables["F"]
    F.iloc[1, 0] = np.inf
    with pytest.raises(ValueError, match=r"extensions\['emissions'\].F contains inf at row \('emission_type2', "
                                         r"'water'\)"):
        build(tables, F=F)


def test_negative_gross_output(tables):
    Y = tables["Y"]
    Y.iloc[2, 0] = -1e9  # more than the row's sales: x = Z1 + Y1 < 0
    with pytest.raises(ValueError, match=r"gross output x is negative .* at \(reg1, manufactoring\)"):
        build(tables, Y=Y)


def test_non_productive_system():
    A = np.array([[0.5, 1.2], [0.6, 0.3]])  # spectral radius 1.27
    with pytest.raises(mriotrace.NumericError, match="not productive: the spectral radius of A is about 1.2"):
        mriotrace.MRIOSystem.from_arrays(["r"], ["a", "b"], ["hh"], A=A, x=np.ones(2), Y=np.ones((2, 1)))
    with pytest.raises(RuntimeError, match="not productive"):
        mm.calc_L(A)


def test_singular_I_minus_A():
    A = np.array([[0.5, 0.5], [0.5, 0.5]])  # I - A singular (spectral radius exactly 1)
    with pytest.raises(RuntimeError, match="not productive"):
        mm.calc_M(np.ones((1, 2)), A)
    with pytest.raises(mriotrace.NumericError, match="singular"):
        mm.calc_M(np.ones((1, 2)), A, check=False)  # the factorisation itself refuses
    with pytest.raises(RuntimeError, match="singular"):
        mriotrace._core.LeontiefSolver(mriotrace._util.as_csc(A, "A"), solver="umfpack")


def test_zero_output_sector_behaves_as_pymrio(tables):
    """A sector with no output: no error, zero columns in A and S, zero accounts (pymrio's rule)."""
    Z, Y, F, F_Y = tables["Z"], tables["Y"], tables["F"], tables["F_Y"]
    dead = ("reg2", "mining")
    Z.loc[dead, :] = 0.0
    Z.loc[:, dead] = 0.0
    Y.loc[dead, :] = 0.0
    F.loc[:, dead] = 0.0
    ours = build(tables, Z=Z, Y=Y, F=F).calc_all()
    assert ours.x.loc[dead, "indout"] == 0
    assert not ours.A.loc[:, dead].any() and not ours.emissions.S.loc[:, dead].any()
    ref = pymrio.IOSystem(Z=Z, Y=Y, emissions={"name": "emissions", "F": F, "F_Y": F_Y})
    ref.calc_all()
    for key in ("S", "M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"):
        assert np.isfinite(getattr(ours.emissions, key).to_numpy()).all()
        assert_close(getattr(ours.emissions, key).to_numpy(), getattr(ref.emissions, key).to_numpy(), what=key)
    assert ours.emissions.D_pba.loc[:, dead].eq(0).all().all()


def test_unknown_extension_and_stressor(small_system):
    with pytest.raises(ValueError, match=r"unknown extension 'emissions'; known extensions: "
                                         r"\['stressors', 'value_added'\]"):
        small_system.calc_all(extensions=["emissions"])
    with pytest.raises(ValueError, match="unknown extension 'nope'"):
        small_system.extension("nope")
    with pytest.raises(ValueError, match=r"unknown stressor 'CO2' in extension 'stressors'; known: "
                                         r"\['stressor0', 'stressor1', 'stressor2'\]"):
        small_system.stressors.get_row_data("CO2")
    with pytest.raises(ValueError, match=r'unknown stressor "CO2"; known stressors: "stressor0"'):
        small_system.core.stressor_index("CO2")  # the engine's own check
    with pytest.raises(ValueError, match='unknown solver "lu2"; expected one of: auto, dense, mixed, umfpack'):
        small_system.calc_all(solver="lu2")


@pytest.fixture()
def bad_files(tmp_path, small_system):
    good = tmp_path / "good.h5"
    small_system.save(good)
    data = good.read_bytes()
    (tmp_path / "truncated.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.h5").write_text("region,sector\nR0,S0\n")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3.0)
    return tmp_path


@pytest.mark.parametrize("name,message", [
    ("truncated.h5", "the file is truncated: it has"),
    ("text.h5", "not an HDF5 file"),
    ("foreign.h5", "not an mriotrace file"),
    ("missing.h5", "no such file"),
])
def test_bad_files(bad_files, name, message):
    path = bad_files / name
    with pytest.raises(OSError, match=message) as err:
        mriotrace.load(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, mriotrace.FileError)
