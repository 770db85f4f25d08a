"""OECD ICIO 2023 native reader: generated tables in the published csv layout, pymrio's parse_oecd as the oracle."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mriotrace
from conftest import assert_close
from global_fixtures import ICIO_FD, ICIO_INDUSTRIES, ICIO_REGIONS, write_oecd_icio

pymrio = pytest.importorskip("pymrio")

SECTORS = ICIO_INDUSTRIES[:6]


@pytest.fixture(scope="module")
def icio_zip(tmp_path_factory) -> Path:
    return write_oecd_icio(tmp_path_factory.mktemp("icio_zip"))


@pytest.fixture(scope="module")
def icio_csv(tmp_path_factory) -> Path:
    return write_oecd_icio(tmp_path_factory.mktemp("icio_csv"), packaging="csv")


@pytest.fixture(scope="module")
def oracle(icio_csv):
    return pymrio.parse_oecd(icio_csv)


def _check_against_pymrio(ours: mriotrace.MRIOSystem, io) -> None:
    # Labels: the publisher's order (pymrio sorts them; its frames are aligned to ours by label).
    assert list(ours.regions) == ICIO_REGIONS  # CN1, CN2, MX1, MX2 merged into CHN, MEX
    assert list(ours.sectors) == SECTORS
    assert list(ours.Y_categories) == ICIO_FD
    assert ours.monetary_unit == "M.USD"
    idx = ours.get_index()
    assert set(idx) == set(io.Z.index) and set(ours.Y.columns) == set(io.Y.columns)
    Z = io.Z.loc[idx, idx].to_numpy()
    np.testing.assert_array_equal(ours.Y.to_numpy(), io.Y.loc[idx, ours.Y.columns].to_numpy())
    # The engine stores A = Z diag(x)^-1 and returns Z as A diag(x): equal to 1 ulp.
    np.testing.assert_allclose(ours.Z.to_numpy(), Z, rtol=4.5e-16, atol=0)
    fi, pf = ours.factor_inputs, io.factor_inputs
    assert list(fi.get_rows()) == ["TLS", "VA"] and fi.get_rows().name == "inputtype"
    np.testing.assert_allclose(fi.F.to_numpy(), pf.F.loc[list(fi.get_rows()), idx].to_numpy(), rtol=4.5e-16, atol=0)
    np.testing.assert_array_equal(fi.F_Y.to_numpy(), pf.F_Y.loc[list(fi.get_rows()), ours.Y.columns].to_numpy())
    assert set(fi.unit["unit"]) == {"M.USD"}


def test_csv_identical_to_pymrio(icio_csv, oracle):
    s = mriotrace.read_oecd_icio(icio_csv)
    assert s.name == "OECD ICIO 2016"
    assert s.metadata["merged_regions"] == ["MX1 -> MEX", "MX2 -> MEX", "CN1 -> CHN", "CN2 -> CHN"]
    _check_against_pymrio(s, oracle)


def test_zip_and_nested_zip_same_as_csv(icio_zip, icio_csv, oracle, tmp_path):
    _check_against_pymrio(mriotrace.readers.read_oecd_icio(icio_zip, year=2016), oracle)
    nested = write_oecd_icio(tmp_path, packaging="nested")
    s = mriotrace.read_oecd_icio(nested, year="2016")
    assert s.metadata["file"].endswith("ICIO-2016-2020-extended.zip:2016.zip:2016.csv")
    _check_against_pymrio(s, oracle)
    # Two years in the zip: the year must be chosen.
    with pytest.raises(mriotrace.InputError, match=r"holds 2 tables .*2016\.csv, 2017\.csv.*year"):
        mriotrace.read_oecd_icio(icio_zip)
    with pytest.raises(mriotrace.FileError, match="holds no 2019 csv"):
        mriotrace.read_oecd_icio(icio_zip, year=2019)


def test_merged_regions_add_up(icio_csv):
    # CHN = CN1 + CN2 (rows and columns): the merged table keeps every flow of the file.
    raw = pd.read_csv(icio_csv, index_col=0)
    s = mriotrace.read_oecd_icio(icio_csv)
    z_labels = [c for c in raw.columns if "_" in c and c.split("_", 1)[1] in SECTORS]
    total_file = raw.loc[z_labels, z_labels].to_numpy().sum()
    assert_close(np.array([s.Z.to_numpy().sum()]), np.array([total_file]), rtol=1e-14, what="sum Z")
    chn = [f"CN1_{SECTORS[0]}", f"CN2_{SECTORS[0]}"]
    assert_close(s.Y.loc[("CHN", SECTORS[0])].to_numpy(), raw.loc[chn, [f"{r}_{f}" for r in ICIO_REGIONS for f in ICIO_FD]]
                 .to_numpy().sum(axis=0), rtol=1e-15, what="Y CHN")


def test_accounts_equal_from_pymrio(icio_csv, oracle):
    ours = mriotrace.read_oecd_icio(icio_csv)
    theirs = mriotrace.from_pymrio(oracle)
    ours.calc_all()
    theirs.calc_all()
    for acc in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg"):
        a = getattr(ours.factor_inputs, acc)
        b = getattr(theirs.factor_inputs, acc)
        b = b.loc[a.index, a.columns] if isinstance(b, pd.DataFrame) else b
        assert_close(a.to_numpy(), b.to_numpy(), rtol=1e-12, what=f"factor_inputs.{acc}")
    # Identity: value added + taxes embodied in final demand = all factor inputs (F + F_Y).
    fi = ours.factor_inputs
    assert_close(fi.D_cba_reg.to_numpy().sum(axis=1), fi.F.to_numpy().sum(axis=1) + fi.F_Y.to_numpy().sum(axis=1),
                 rtol=1e-12, what="D_cba total")


# ---------------------------------------------------------------- bad files


def _edit_csv(src: Path, dst: Path, edit) -> Path:
    text = src.read_bytes().decode()  # keep the \r\n line ends
    dst.write_text(edit(text), newline="")
    return dst


def _set_cell(text: str, row: int, column: int, value: str) -> str:
    lines = text.split("\r\n")
    cells = lines[row - 1].split(",")
    cells[column - 1] = value
    lines[row - 1] = ",".join(cells)
    return "\r\n".join(lines)


def test_non_numeric_cell_names_file_row_column(icio_csv, tmp_path):
    bad = _edit_csv(icio_csv, tmp_path / "ICIO2023_2016.csv", lambda t: _set_cell(t, 4, 7, "12..5"))
    with pytest.raises(mriotrace.InputError) as e:
        mriotrace.read_oecd_icio(bad)
    msg = str(e.value)
    assert "ICIO2023_2016.csv" in msg and "row 4, column 7" in msg and '"12..5"' in msg
    assert f"ARG_{SECTORS[2]} x ARG_{SECTORS[5]}" in msg  # the cell's row and column labels
    # An unclosed quote is named too (libcsv's strict mode).
    bad = _edit_csv(icio_csv, tmp_path / "q.csv", lambda t: _set_cell(t, 5, 1, '"ARG_A03'))
    with pytest.raises((mriotrace.InputError, mriotrace.FileError), match=r"q\.csv.*row"):
        mriotrace.read_oecd_icio(bad)


def test_wrong_header_is_named(icio_csv, tmp_path):
    bad = _edit_csv(icio_csv, tmp_path / "h.csv", lambda t: _set_cell(t, 1, 3, '"AUS_A01_02"'))
    with pytest.raises(mriotrace.InputError, match=r"h\.csv.* row 1, column 3 is AUS_A01_02; expected ARG_A03"):
        mriotrace.read_oecd_icio(bad)
    bad = _edit_csv(icio_csv, tmp_path / "h2.csv", lambda t: _set_cell(t, 1, 5, '"TOTAL2"'))
    with pytest.raises(mriotrace.InputError, match=r"h2\.csv.* column 5: label \"TOTAL2\" is not REGION_SECTOR"):
        mriotrace.read_oecd_icio(bad)


def test_truncated_and_missing(icio_csv, icio_zip, tmp_path):
    text = icio_csv.read_bytes().decode()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: int(len(text) * 0.6)], newline="")
    with pytest.raises((mriotrace.InputError, mriotrace.FileError), match=r"cut\.csv.*truncated"):
        mriotrace.read_oecd_icio(cut)
    lines = text.split("\r\n")
    cut.write_text("\r\n".join(lines[:20]) + "\r\n", newline="")
    with pytest.raises(mriotrace.FileError, match=r"cut\.csv.* ends after 20 rows with 19 of the 60 REGION_SECTOR rows"):
        mriotrace.read_oecd_icio(cut)
    data = icio_zip.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(mriotrace.FileError, match=r"cut\.zip"):
        mriotrace.read_oecd_icio(tmp_path / "cut.zip", year=2016)
    with pytest.raises(mriotrace.FileError, match="no such file or folder"):
        mriotrace.read_oecd_icio(tmp_path / "none.zip")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("ReadMe.txt", "no tables")
    with pytest.raises(mriotrace.FileError, match=r"empty\.zip.* holds no csv table"):
        mriotrace.read_oecd_icio(empty)


# ---------------------------------------------------------------- CLI

CLI = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")


@pytest.mark.skipif(CLI is None, reason="the mriotrace program is not on PATH (set MRIOTRACE_CLI)")
def test_cli_import_then_footprint(icio_zip, tmp_path):
    h5 = tmp_path / "icio.h5"
    res = subprocess.run([CLI, "import-db", "oecd-icio", str(icio_zip), "--year", "2017", "-o", str(h5)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "imported OECD ICIO 2017: 6 regions x 6 sectors, 6 final-demand categories, 2 stressors (M.USD)" in res.stdout
    out = tmp_path / "va.csv"
    res = subprocess.run([CLI, "footprint", str(h5), "--stressor", "factor_inputs[inputtype]::VA", "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    ours = mriotrace.read_oecd_icio(icio_zip, year=2017)
    ours.calc_all()
    assert [r["region"] for r in rows] == ICIO_REGIONS
    assert_close(np.array([float(r["D_cba_reg"]) for r in rows]), ours.factor_inputs.D_cba_reg.loc["VA"].to_numpy(),
                 rtol=1e-12, what="CLI D_cba_reg")
