"""mriotrace.datasets.firm_network: shapes, labels, power-law degrees, a
productive balanced system, determinism, bad options, and accounts that
agree with a dense solve on a small network."""

from __future__ import annotations

import numpy as np
import pytest

import mriotrace
from conftest import assert_close


@pytest.fixture(scope="module")
def net():
    return mriotrace.datasets.firm_network(firms=3000, links=13_500, regions=3, seed=5)


def test_shapes_labels_and_links(net):
    A = net.A_sparse
    assert A.shape == (3000, 3000)
    assert abs(A.nnz - 13_500) < 0.1 * 13_500
    assert list(net.regions) == ["R0", "R1", "R2"]
    assert list(net.sectors[:2]) == ["F0", "F1"] and len(net.sectors) == 1000
    assert list(net.stressors.rows) == ["stressor0", "stressor1", "stressor2"]
    assert net.value_added is not None
    assert "synthetic" in net.monetary_unit
    assert (A.diagonal() == 0).all()


def test_power_law_degrees_and_productive(net):
    A = net.A_sparse
    indeg = np.diff(A.indptr)
    outdeg = np.bincount(A.indices, minlength=A.shape[0])
    mean = A.nnz / A.shape[0]
    assert indeg.max() > 15 * mean and outdeg.max() > 15 * mean
    colsum = np.asarray(A.sum(axis=0)).ravel()
    assert colsum.max() <= 0.7 + 1e-12
    x = net.x["indout"].to_numpy()
    y = net.Y.to_numpy().sum(axis=1)
    np.testing.assert_allclose(x - A @ x, y, rtol=1e-10, atol=1e-9 * x.max())


def test_deterministic_for_seed_and_threads():
    a = mriotrace.datasets.firm_network(firms=2000, links=8000, regions=2, seed=9, threads=1)
    b = mriotrace.datasets.firm_network(firms=2000, links=8000, regions=2, seed=9, threads=2)
    c = mriotrace.datasets.firm_network(firms=2000, links=8000, regions=2, seed=10)
    assert (a.A_sparse != b.A_sparse).nnz == 0
    np.testing.assert_array_equal(a.core.S, b.core.S)
    np.testing.assert_array_equal(a.core.Y, b.core.Y)
    assert (a.A_sparse != c.A_sparse).nnz > 0


def test_footprints_match_dense_solve():
    s = mriotrace.datasets.firm_network(firms=600, links=2400, regions=3, seed=1)
    s.calc_all(solver="umfpack", threads=1)
    A = s.A_sparse.toarray()
    S = s.core.S
    M = np.linalg.solve((np.eye(600) - A).T, S.T).T
    assert_close(s.stressors.M.to_numpy(), M, rtol=1e-9, what="M")


@pytest.mark.parametrize("kwargs, word", [
    (dict(firms=1, links=1, regions=1), "firms"),
    (dict(firms=1000, links=5000, regions=3), "multiple of regions"),
    (dict(firms=1000, links=10, regions=2), "links"),
    (dict(firms=1000, links=5000, regions=2, exponent=1.5), "exponent"),
    (dict(firms=1000, links=5000, regions=2, domestic_link_share=2.0), "domestic_link_share"),
    (dict(firms=1000, links=5000, regions=2, stressors=0), "stressors"),
    (dict(firms=1000, links=5000, regions=2, threads=-2), "threads"),
])
def test_bad_options_raise_value_error(kwargs, word):
    with pytest.raises(ValueError, match=word):
        mriotrace.datasets.firm_network(**kwargs)
