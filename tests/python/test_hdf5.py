"""HDF5 from Python: save -> load gives identical arrays and labels; h5py alone reads the file."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import mriotrace

pymrio = pytest.importorskip("pymrio")


def _same_system(a: mriotrace.MRIOSystem, b: mriotrace.MRIOSystem) -> None:
    for key in ("x", "Y"):
        pd.testing.assert_frame_equal(getattr(a, key), getattr(b, key), check_exact=True)
    assert (a.A_sparse != b.A_sparse).nnz == 0
    assert a.monetary_unit == b.monetary_unit
    assert a.extensions_instance_names == b.extensions_instance_names
    for inst in a.extensions_instance_names:
        ea, eb = getattr(a, inst), getattr(b, inst)
        pd.testing.assert_index_equal(ea.get_rows(), eb.get_rows())
        pd.testing.assert_frame_equal(ea.S, eb.S, check_exact=True)
        pd.testing.assert_frame_equal(ea.unit, eb.unit)
        assert (ea.F_Y is None) == (eb.F_Y is None)
        for acc in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"):
            da, db = getattr(ea, acc), getattr(eb, acc)
            assert (da is None) == (db is None), f"{inst}.{acc}"
            if da is not None:
                pd.testing.assert_frame_equal(da, db, check_exact=True)
        if ea.Q_array is not None:
            np.testing.assert_array_equal(ea.Q_array, eb.Q_array)


def test_round_trip_pymrio_test_system(tmp_path):
    """Two extensions with multi-level and renamed indexes, F_Y on one of them, accounts included."""
    system = mriotrace.from_pymrio(pymrio.load_test()).calc_all()
    path = tmp_path / "test.h5"
    mriotrace.save(system, path)
    back = mriotrace.load(path)
    _same_system(system, back)
    assert back.emissions.get_rows().names == ["stressor", "compartment"]
    assert back.factor_inputs.get_rows().names == ["inputtype"]
    assert back.factor_inputs.F_Y is None and back.emissions.F_Y is not None
    info = mriotrace.inspect(path)
    assert info["has_system"] and info["format_version"] == mriotrace._core.FORMAT_VERSION
    assert info["result_names"] == ["stressors"]
    assert info["labels"].stressors[:2] == ["factor_inputs[inputtype]::Value Added", "emissions::emission_type1/air"]


def test_round_trip_generated_without_accounts(tmp_path, small_system):
    path = tmp_path / "gen.h5"
    small_system.save(path)
    back = mriotrace.load(path)
    _same_system(small_system, back)
    pd.testing.assert_series_equal(small_system.v, back.v, check_exact=True)
    assert back.core.labels.stressors == ["stressor0", "stressor1", "stressor2"]  # plain names stay plain


def test_readable_with_h5py_alone(tmp_path, small_system):
    path = tmp_path / "plain.h5"
    mriotrace.save(small_system, path)
    with h5py.File(path, "r") as f:
        g = f["/system/A"]
        n = small_system.core.n
        A = sp.csc_array((g["data"][()], g["indices"][()], g["indptr"][()]), shape=(n, n))
        x = f["/system/x"][()]
        regions = [r.decode() if isinstance(r, bytes) else r for r in f["/system/labels/regions"][()]]
    assert (A != small_system.A_sparse).nnz == 0
    np.testing.assert_array_equal(x, small_system.x["indout"].to_numpy())
    assert regions == list(small_system.regions)


def test_atomic_write_leaves_no_temporary(tmp_path, small_system):
    path = tmp_path / "atomic.h5"
    mriotrace.save(small_system, path)
    mriotrace.save(small_system, path)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.h5"]
