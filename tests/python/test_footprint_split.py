"""Footprints by Y category and by product, against dense formulas on pymrio's parse of the same fixture."""

from __future__ import annotations

import numpy as np
import pytest

import mriotrace
from conftest import assert_close
from exiobase_fixture import write_exiobase3

pymrio = pytest.importorskip("pymrio")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    path = write_exiobase3(tmp_path_factory.mktemp("exio_split"), regions=("AT", "BE", "CN"), sectors=4,
                           categories=3, stressors=5, impacts=2, with_A=False, with_S=False)
    return mriotrace.read_exiobase3(path), pymrio.parse_exiobase3(path)


def test_by_category_and_product(pair):
    ours, io = pair
    Z, Y, x = io.Z.to_numpy(), io.Y.to_numpy(), io.x.to_numpy().ravel()
    L = np.linalg.inv(np.eye(len(x)) - Z / x)
    R, N, c = 3, 4, 3
    for name in ("satellite", "impacts"):
        ext = getattr(io, name)
        M = (ext.F.to_numpy() / x) @ L
        by_cat = mriotrace.footprint_by_category(ours, name)
        assert list(by_cat.columns) == list(io.Y.columns) and list(by_cat.index) == list(ext.F.index)
        assert_close(by_cat.to_numpy(), M @ Y + ext.F_Y.to_numpy(), rtol=1e-10, what=f"{name} by category")
        by_prod = mriotrace.footprint_by_product(ours, name)
        Yr = Y.reshape(R * N, R, c).sum(axis=2)
        dense = np.stack([(M * Yr[:, r]).reshape(-1, R, N).sum(axis=1) for r in range(R)], axis=1)
        assert_close(by_prod.to_numpy(), dense.reshape(-1, R * N), rtol=1e-10, what=f"{name} by product")
        # Identities: both add up to the regional footprint D_cba_reg.
        reg = ours.extension(name).D_cba_reg.to_numpy()
        assert_close(by_cat.to_numpy().reshape(-1, R, c).sum(axis=2), reg, rtol=1e-10, what="sum over categories")
        FYr = ext.F_Y.to_numpy().reshape(-1, R, c).sum(axis=2)
        assert_close(by_prod.to_numpy().reshape(-1, R, N).sum(axis=2) + FYr, reg, rtol=1e-10,
                     what="sum over products")


CLI = __import__("os").environ.get("MRIOTRACE_CLI") or __import__("shutil").which("mriotrace")


@pytest.mark.skipif(CLI is None, reason="the mriotrace program is not on PATH (set MRIOTRACE_CLI)")
@pytest.mark.parametrize("by", ["category", "product"])
def test_cli_footprint_split(pair, tmp_path, by):
    import csv
    import subprocess

    ours, _ = pair
    h5 = tmp_path / "x.h5"
    ours.save(h5)
    out = tmp_path / "split.csv"
    stressor = "satellite::CO2 - combustion - air"
    res = subprocess.run([CLI, "footprint-split", str(h5), "--by", by, "--stressor", stressor, "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    second = "category" if by == "category" else "sector"
    ref = (mriotrace.footprint_by_category if by == "category" else mriotrace.footprint_by_product)(ours, "satellite")
    expected = ref.loc["CO2 - combustion - air"]
    assert [(r["region"], r[second]) for r in rows] == list(expected.index)
    assert {r["unit"] for r in rows} == {"1000 p"}
    assert_close(np.array([float(r["D_cba"]) for r in rows]), expected.to_numpy(), rtol=1e-12, what=f"CLI by {by}")
