"""GLORIA native reader: a generated release in the published layout, pymrio's parse_gloria as the oracle."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import mriotrace
from conftest import assert_close
from global_fixtures import (GLORIA_FD, GLORIA_PREFIX, GLORIA_REGIONS, GLORIA_SATELLITES, GLORIA_SECTORS, GLORIA_VA,
                             gloria_tables, rewrite_zip, write_gloria)

pymrio = pytest.importorskip("pymrio")

LIVE = [a for a, _ in GLORIA_REGIONS if a != "DYE"]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_gloria(tmp_path_factory.mktemp("gloria"))


@pytest.fixture(scope="module")
def oracle(release):
    return pymrio.parse_gloria(release, year=2022, version=59)


def _check_against_pymrio(ours: mriotrace.MRIOSystem, io) -> None:
    assert list(ours.regions) == LIVE  # DYE has no data: dropped, as pymrio does
    assert list(ours.sectors) == GLORIA_SECTORS and list(ours.Y_categories) == GLORIA_FD
    assert ours.monetary_unit == "k.USD"
    idx = ours.get_index()
    assert list(idx) == list(io.A.index) and list(ours.Y.columns) == list(io.Y.columns)
    np.testing.assert_array_equal(ours.Y.to_numpy(), io.Y.to_numpy())
    assert_close(ours.A.to_numpy(), io.A.to_numpy(), rtol=1e-15, what="A")
    q, va = ours.Q, ours.VA
    assert list(q.get_rows()) == list(io.Q.F.index) and list(q.get_rows().names) == ["stressor", "category"]
    assert list(q.unit["unit"]) == [u for _, _, u in GLORIA_SATELLITES]
    np.testing.assert_array_equal(q.F_Y.to_numpy(), io.Q.F_Y.to_numpy())
    assert_close(q.F.to_numpy(), io.Q.F.to_numpy(), rtol=1e-15, what="Q F")
    assert list(va.get_rows()) == list(io.VA.F.index) and list(va.get_rows().names) == ["region", "inputtype"]
    assert_close(va.F.to_numpy(), io.VA.F.to_numpy(), rtol=1e-15, what="VA F")


def test_zip_identical_to_pymrio(release, oracle):
    s = mriotrace.read_gloria(release)
    assert s.name == "GLORIA 59 2022 (product by product, bp)"
    assert s.metadata["dropped_regions"] == ["DYE"] and len(s.metadata["files"]) == 5
    _check_against_pymrio(s, oracle)
    # x = q, the product output U1 + Y1, which pymrio solves for.
    io = oracle
    io.calc_system()
    assert_close(s.x.to_numpy().ravel(), io.x.to_numpy().ravel(), rtol=1e-12, what="x")


def test_folders_same_as_zips(tmp_path, oracle):
    folder = write_gloria(tmp_path, as_zip=False)
    _check_against_pymrio(mriotrace.readers.read_gloria(folder, 2022, 59), oracle)


def test_accounts_equal_from_pymrio(release, oracle):
    ours = mriotrace.read_gloria(release)
    theirs = mriotrace.from_pymrio(oracle)
    ours.calc_all()
    theirs.calc_all()
    for name in ("Q", "VA"):
        for acc in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg"):
            assert_close(getattr(ours.extension(name), acc).to_numpy(), getattr(theirs.extension(name), acc).to_numpy(),
                         rtol=1e-12, what=f"{name}.{acc}")


def test_industry_by_industry_by_formula(release):
    # Construct D: A = V diag(q)^-1 U diag(g)^-1, Y = V diag(q)^-1 Y_p, x = g; on the raw arrays.
    t = gloria_tables()
    R, N = len(GLORIA_REGIONS), len(GLORIA_SECTORS)
    live = [r for r in range(R) if GLORIA_REGIONS[r][0] != "DYE"]
    ind = np.array([r * 2 * N + i for r in live for i in range(N)])
    prod = ind + N
    U, V = t["T"][np.ix_(prod, ind)], t["T"][np.ix_(ind, prod)]
    ycols = np.array([r * len(GLORIA_FD) + f for r in live for f in range(len(GLORIA_FD))])
    Yp = t["Y"][np.ix_(prod, ycols)]
    g, q = V.sum(axis=1), U.sum(axis=1) + Yp.sum(axis=1)
    D = V / q
    s = mriotrace.read_gloria(release, construct="D")
    assert "industry by industry" in s.name
    assert_close(s.A.to_numpy(), D @ U / g, rtol=1e-13, what="A (D)")
    assert_close(s.Y.to_numpy(), D @ Yp, rtol=1e-13, what="Y (D)")
    assert_close(s.x.to_numpy().ravel(), g, rtol=1e-13, what="x (D)")
    assert_close(s.Q.F.to_numpy(), t["TQ"][:, ind], rtol=1e-15, what="Q F (D)")  # F = S diag(x): to 1 ulp
    # Both constructs account for every satellite flow: sum of D_cba = sum of F + F_Y.
    b = mriotrace.read_gloria(release)
    for sys in (s, b):
        sys.calc_all()
        total = sys.Q.F.to_numpy().sum(axis=1) + sys.Q.F_Y.to_numpy().sum(axis=1)
        assert_close(sys.Q.D_cba_reg.to_numpy().sum(axis=1), total, rtol=1e-10, what="D_cba total")


def test_purchasers_prices_and_options(release):
    pp = mriotrace.read_gloria(release, price="pp", satellites=False, value_added=False)
    bp = mriotrace.read_gloria(release)
    assert pp.extensions_instance_names == []
    assert not np.allclose(pp.Y.to_numpy(), bp.Y.to_numpy())  # the Markup005 tables were read
    full = mriotrace.read_gloria(release, country_names="full")
    assert list(full.regions) == ["Afghanistan", "Albania", "USA"]


# ---------------------------------------------------------------- bad files


def _rewrite(src: Path, dst: Path, member_suffix: str, edit) -> Path:
    return rewrite_zip(src, dst, lambda name: name.endswith(member_suffix), edit)


def _copy_release(release: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "rel"
    shutil.copytree(release, dst)
    return dst


def _set_cell(text: str, row: int, column: int, value: str) -> str:
    lines = text.split("\n")
    cells = lines[row - 1].split(",")
    cells[column - 1] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines)


T_NAME = "T-Results_2022_059_Markup001(full).csv"


def test_non_numeric_cell_names_file_row_column(release, tmp_path):
    rel = _copy_release(release, tmp_path)
    z = rel / "GLORIA_MRIOs_59_2022.zip"
    _rewrite(release / z.name, z, T_NAME, lambda t: _set_cell(t, 5, 8, "n/a"))
    with pytest.raises(mriotrace.InputError) as e:
        mriotrace.read_gloria(rel)
    msg = str(e.value)
    assert f"GLORIA_MRIOs_59_2022.zip:{GLORIA_PREFIX}{T_NAME}" in msg and "row 5, column 8" in msg and '"n/a"' in msg


def test_wrong_shape_missing_and_truncated(release, tmp_path):
    rel = _copy_release(release, tmp_path)
    z = rel / "GLORIA_MRIOs_59_2022.zip"
    # A row with a cell too few (the header-less equivalent of a wrong header).
    _rewrite(release / z.name, z, T_NAME, lambda t: t.replace("\n", ",0\n", 1))
    with pytest.raises(mriotrace.InputError, match=r"T-Results.* row 1 has 25 cells; expected 24"):
        mriotrace.read_gloria(rel)
    # Y-Results missing from the zip.
    _rewrite(release / z.name, z, "Y-Results_2022_059_Markup001(full).csv", lambda t: None)
    with pytest.raises(mriotrace.FileError, match=r"GLORIA_MRIOs_59_2022\.zip.* has no \*_Y-Results_2022_059_Markup001"):
        mriotrace.read_gloria(rel)
    # T cut after 10 of its 24 rows.
    _rewrite(release / z.name, z, T_NAME, lambda t: "\n".join(t.split("\n")[:10]) + "\n")
    with pytest.raises(mriotrace.FileError, match=r"T-Results.* ends after 10 rows; expected 24 .*truncated"):
        mriotrace.read_gloria(rel)
    # A cut zip.
    data = (release / z.name).read_bytes()
    z.write_bytes(data[: len(data) // 2])
    with pytest.raises(mriotrace.FileError, match=r"GLORIA_MRIOs_59_2022\.zip"):
        mriotrace.read_gloria(rel)
    # The label workbook missing; a workbook whose labels do not fit the tables.
    shutil.copy(release / z.name, z)
    (rel / "GLORIA_ReadMe_059.xlsx").unlink()
    with pytest.raises(mriotrace.FileError, match="label workbook"):
        mriotrace.read_gloria(rel)
    other = write_gloria(tmp_path / "other", regions=GLORIA_REGIONS[:3])
    shutil.copy(other / "GLORIA_ReadMe_059.xlsx", rel / "GLORIA_ReadMe_059.xlsx")
    with pytest.raises(mriotrace.InputError, match=r"T-Results.* row 1 has 24 cells; expected 18"):
        mriotrace.read_gloria(rel)


# ---------------------------------------------------------------- CLI

CLI = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")


@pytest.mark.skipif(CLI is None, reason="the mriotrace program is not on PATH (set MRIOTRACE_CLI)")
def test_cli_import_then_footprint(release, tmp_path):
    h5 = tmp_path / "gloria.h5"
    res = subprocess.run([CLI, "import-db", "gloria", str(release), "--construct", "D", "-o", str(h5)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "imported GLORIA 59 2022 (industry by industry, bp): 3 regions x 3 sectors, 6 final-demand categories, " \
           "22 stressors (k.USD)" in res.stdout
    out = tmp_path / "all.csv"
    # All stressors (footprint's --stressor splits its value at commas, which multi-level names hold).
    res = subprocess.run([CLI, "footprint", str(h5), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    stressor = "Q[stressor,category]::'ch4_total_EDGAR_consistent'/Emissions (EDGAR)"
    rows = [r for r in csv.DictReader(out.open()) if r["stressor"] == stressor]
    ours = mriotrace.read_gloria(release, construct="D")
    ours.calc_all()
    assert [r["region"] for r in rows] == LIVE and {r["unit"] for r in rows} == {"kilotonnes"}
    expected = ours.Q.D_cba_reg.loc[("'ch4_total_EDGAR_consistent'", "Emissions (EDGAR)")].to_numpy()
    assert_close(np.array([float(r["D_cba_reg"]) for r in rows]), expected, rtol=1e-12, what="CLI D_cba_reg")
    res = subprocess.run([CLI, "import-db", "gloria", str(tmp_path / "none"), "-o", str(h5)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "none" in res.stderr, res.stderr


def test_supply_use_form_identical_to_pymrio(release):
    sut = mriotrace.readers.read_gloria_sut(release)
    theirs, _ = pymrio.parse_gloria_sut(release, 2022, 59)
    assert list(sut.index) == list(theirs["U"].index) == list(theirs["V"].columns)
    np.testing.assert_array_equal(sut.U.toarray(), theirs["U"].to_numpy())
    np.testing.assert_array_equal(sut.V.toarray(), theirs["V"].to_numpy())
    for ours, key in ((sut.Y, "Y"), (sut.VA, "VA"), (sut.Q, "Q"), (sut.QY, "QY")):
        assert list(ours.index) == list(theirs[key].index) and list(ours.columns) == list(theirs[key].columns), key
        assert list(ours.index.names) == list(theirs[key].index.names), key
        np.testing.assert_array_equal(ours.to_numpy(), theirs[key].to_numpy())
    assert sut.metadata["dropped_regions"] == ["DYE"]
    # The product-by-product system is built from exactly these tables: A = U diag(g)^-1 V diag(q)^-1.
    U, V, Y = sut.U.toarray(), sut.V.toarray(), sut.Y.to_numpy()
    g, q = V.sum(axis=1), U.sum(axis=1) + Y.sum(axis=1)
    assert_close(mriotrace.read_gloria(release).A.to_numpy(), U / g @ V / q, rtol=1e-14, what="A from the SUT")
