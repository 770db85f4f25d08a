"""Eora26 native reader: generated tables in the published layout, pymrio's parse_eora26 as the oracle."""

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
from global_fixtures import EORA_COUNTRIES, EORA_FD, EORA_Q, EORA_SECTORS, eora26_tables, rewrite_zip, write_eora26

pymrio = pytest.importorskip("pymrio")

CODES = [code for _, code in EORA_COUNTRIES]


@pytest.fixture(scope="module")
def eora_zip(tmp_path_factory) -> Path:
    return write_eora26(tmp_path_factory.mktemp("eora"))


@pytest.fixture(scope="module")
def oracle(eora_zip):
    return pymrio.parse_eora26(eora_zip.parent, year=2015, price="bp")


def _check_against_pymrio(ours: mriotrace.MRIOSystem, io) -> None:
    assert list(ours.regions) == CODES  # ROW left out, as pymrio does
    assert list(ours.sectors) == EORA_SECTORS and list(ours.Y_categories) == EORA_FD
    assert ours.monetary_unit == "k.USD"  # thousand US dollars (pymrio: "000 USD")
    assert list(ours.get_index()) == list(io.Z.index) and list(ours.Y.columns) == list(io.Y.columns)
    np.testing.assert_array_equal(ours.Y.to_numpy(), io.Y.to_numpy())
    np.testing.assert_allclose(ours.Z.to_numpy(), io.Z.to_numpy(), rtol=4.5e-16, atol=0)
    q, va = ours.Q, ours.VA
    assert list(q.get_rows()) == list(io.Q.F.index) and list(q.get_rows().names) == ["stressor", "source"]
    assert list(q.unit["unit"]) == list(io.Q.unit["unit"]) == ["Gg", "Gg", "TJ", "TJ", "Mm3"]
    np.testing.assert_allclose(q.F.to_numpy(), io.Q.F.to_numpy(), rtol=4.5e-16, atol=0)
    np.testing.assert_array_equal(q.F_Y.to_numpy(), io.Q.F_Y.to_numpy())
    assert list(va.get_rows()) == list(io.VA.F.index) and list(va.get_rows().names) == ["inputtype", "category"]
    np.testing.assert_allclose(va.F.to_numpy(), io.VA.F.to_numpy(), rtol=4.5e-16, atol=0)


def test_zip_with_indices_identical_to_pymrio(eora_zip, oracle):
    s = mriotrace.read_eora26(eora_zip)
    assert s.name == "Eora26 2015 bp" and s.metadata["dropped_regions"] == ["ROW"]
    t = eora26_tables()
    n = len(t["labels_T"])
    assert s.metadata["dropped_flows"] == pytest.approx(t["T"][n - 1, :].sum() + t["T"][:n - 1, n - 1].sum(), rel=1e-12)
    _check_against_pymrio(s, oracle)


def test_labels_inside_and_folder(tmp_path, oracle):
    inside = write_eora26(tmp_path / "a", labels="inside")
    _check_against_pymrio(mriotrace.readers.read_eora26(inside), oracle)
    folder = write_eora26(tmp_path / "b", as_zip=False)
    _check_against_pymrio(mriotrace.read_eora26(folder, 2015), oracle)


def test_money_in_million_usd(eora_zip):
    k = mriotrace.read_eora26(eora_zip)
    m = mriotrace.read_eora26(eora_zip, money_unit="M.USD")
    assert m.monetary_unit == "M.USD" and set(m.VA.unit["unit"]) == {"M.USD"}
    assert_close(m.Z.to_numpy(), k.Z.to_numpy() / 1000, rtol=1e-15, what="Z in M.USD")
    assert_close(m.Y.to_numpy(), k.Y.to_numpy() / 1000, rtol=1e-15, what="Y in M.USD")
    assert_close(m.Q.F.to_numpy(), k.Q.F.to_numpy(), rtol=1e-15, what="Q unchanged")
    # Physical footprints do not depend on the monetary unit; intensities do, by 1000.
    k.calc_all()
    m.calc_all()
    assert_close(m.Q.D_cba_reg.to_numpy(), k.Q.D_cba_reg.to_numpy(), rtol=1e-12, what="D_cba_reg")
    assert_close(m.Q.M.to_numpy(), k.Q.M.to_numpy() * 1000, rtol=1e-12, what="M")


def test_accounts_equal_from_pymrio(eora_zip, oracle):
    ours = mriotrace.read_eora26(eora_zip)
    theirs = mriotrace.from_pymrio(oracle)
    ours.calc_all()
    theirs.calc_all()
    for name in ("Q", "VA"):
        for acc in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg"):
            assert_close(getattr(ours.extension(name), acc).to_numpy(), getattr(theirs.extension(name), acc).to_numpy(),
                         rtol=1e-12, what=f"{name}.{acc}")


# ---------------------------------------------------------------- bad files


def _rewrite(src: Path, dst: Path, member: str, edit) -> Path:
    return rewrite_zip(src, dst, lambda name: name == member, edit)


def _set_cell(text: str, line: int, column: int, value: str) -> str:
    lines = text.split("\n")
    cells = lines[line - 1].split("\t")
    cells[column - 1] = value
    lines[line - 1] = "\t".join(cells)
    return "\n".join(lines)


def _copy(eora_zip: Path, tmp_path: Path) -> Path:
    shutil.copytree(eora_zip.parent, tmp_path / "e")
    return tmp_path / "e" / eora_zip.name


def test_non_numeric_cell_and_wrong_sizes(eora_zip, tmp_path):
    z = _copy(eora_zip, tmp_path)
    _rewrite(eora_zip, z, "Eora26_2015_bp_T.txt", lambda t: _set_cell(t, 3, 5, "1,5"))
    with pytest.raises(mriotrace.InputError) as e:
        mriotrace.read_eora26(z)
    msg = str(e.value)
    assert "Eora26_2015_bp.zip:Eora26_2015_bp_T.txt" in msg and "row 3, column 5" in msg and '"1,5"' in msg
    # A label file of another table (one sector more): the sizes disagree, named.
    _rewrite(eora_zip, z, "Eora26_2015_bp_FD.txt", lambda t: t.replace("\n", "\t0\n", 1))
    with pytest.raises(mriotrace.InputError, match=r"FD\.txt\" line 1 has 31 cells; expected 30"):
        mriotrace.read_eora26(z)


def test_missing_and_truncated(eora_zip, tmp_path):
    z = _copy(eora_zip, tmp_path)
    _rewrite(eora_zip, z, "Eora26_2015_bp_QY.txt", lambda t: None)
    with pytest.raises(mriotrace.FileError, match=r"Eora26_2015_bp\.zip\" has no Eora26_2015_bp_QY\.txt in the zip"):
        mriotrace.read_eora26(z)
    _rewrite(eora_zip, z, "Eora26_2015_bp_T.txt", lambda t: "\n".join(t.split("\n")[:7]) + "\n")
    with pytest.raises(mriotrace.FileError, match=r"T\.txt\" ends after 7 rows; expected 17 .*truncated"):
        mriotrace.read_eora26(z)
    _rewrite(eora_zip, z, "Eora26_2015_bp_T.txt", lambda t: t[: len(t) // 3])
    with pytest.raises((mriotrace.FileError, mriotrace.InputError), match=r"T\.txt.*truncated"):
        mriotrace.read_eora26(z)
    (z.parent / "indices.zip").unlink()
    with pytest.raises(mriotrace.FileError, match=r"no labels_T\.txt in the zip and there is no indices\.zip"):
        mriotrace.read_eora26(z)
    data = eora_zip.read_bytes()
    z.write_bytes(data[: len(data) // 2])
    with pytest.raises(mriotrace.FileError, match=r"Eora26_2015_bp\.zip"):
        mriotrace.read_eora26(z)
    with pytest.raises(mriotrace.FileError, match=r"has no Eora26_2016_bp_T\.txt"):
        mriotrace.read_eora26(eora_zip, 2016)


# ---------------------------------------------------------------- CLI

CLI = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")


@pytest.mark.skipif(CLI is None, reason="the mriotrace program is not on PATH (set MRIOTRACE_CLI)")
def test_cli_import_then_footprint(eora_zip, tmp_path):
    h5 = tmp_path / "eora.h5"
    res = subprocess.run([CLI, "import-db", "eora26", str(eora_zip), "-o", str(h5)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "imported Eora26 2015 bp: 4 regions x 4 sectors, 6 final-demand categories, 11 stressors (k.USD)" in res.stdout
    out = tmp_path / "all.csv"
    res = subprocess.run([CLI, "footprint", str(h5), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    stressor = "Q[stressor,source]::Energy Usage/Coal"
    rows = [r for r in csv.DictReader(out.open()) if r["stressor"] == stressor]
    ours = mriotrace.read_eora26(eora_zip)
    ours.calc_all()
    assert [r["region"] for r in rows] == CODES and {r["unit"] for r in rows} == {"TJ"}
    assert_close(np.array([float(r["D_cba_reg"]) for r in rows]),
                 ours.Q.D_cba_reg.loc[("Energy Usage", "Coal")].to_numpy(), rtol=1e-12, what="CLI D_cba_reg")
