"""EXIOBASE 3 native reader: generated fixtures in the published layout, pymrio as the oracle.

pymrio.parse_exiobase3 reads the same zip/folder; both must give identical
arrays and labels, and from_pymrio(pymrio.parse_exiobase3(FIXTURE)) the same
accounts as the native reader to 1e-12.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

import mriotrace
from conftest import assert_close
from exiobase_fixture import write_exiobase3
from global_fixtures import rewrite_zip

pymrio = pytest.importorskip("pymrio")

REGIONS = ["AT", "BE", "CN"]


@pytest.fixture(scope="module")
def fixture_zip(tmp_path_factory) -> Path:
    return write_exiobase3(tmp_path_factory.mktemp("exio_zip"), regions=REGIONS, sectors=4, categories=2,
                           stressors=6, impacts=3)


@pytest.fixture(scope="module")
def fixture_folder(tmp_path_factory) -> Path:
    return write_exiobase3(tmp_path_factory.mktemp("exio_dir"), regions=REGIONS, sectors=4, categories=2,
                           stressors=6, impacts=3, as_zip=False)


@pytest.fixture(scope="module")
def oracle(fixture_zip):
    return pymrio.parse_exiobase3(fixture_zip)


def _check_against_pymrio(ours: mriotrace.MRIOSystem, io) -> None:
    # Labels: identical, in the same order.
    assert list(ours.get_index()) == list(io.Z.index)
    assert list(ours.Y.columns) == list(io.Y.columns)
    assert list(ours.regions) == REGIONS
    assert ours.monetary_unit == "M.EUR"
    # Arrays: identical doubles where the engine keeps what it read (Y, x, F_Y). It stores
    # A = Z diag(x)^-1 and S = F diag(x)^-1, so Z and F come back as A diag(x): equal to 1 ulp.
    np.testing.assert_array_equal(ours.Y.to_numpy(), io.Y.to_numpy())
    np.testing.assert_array_equal(ours.x.to_numpy().ravel(), io.x.to_numpy().ravel())
    np.testing.assert_allclose(ours.Z.to_numpy(), io.Z.to_numpy(), rtol=4.5e-16, atol=0)
    for name in ("satellite", "impacts"):
        e, p = ours.extension(name), getattr(io, name)
        assert list(e.get_rows()) == list(p.F.index)
        np.testing.assert_allclose(e.F.to_numpy(), p.F.to_numpy(), rtol=4.5e-16, atol=0)
        np.testing.assert_array_equal(e.F_Y.to_numpy(), p.F_Y.to_numpy())
        assert list(e.unit["unit"]) == list(p.unit["unit"])
        assert list(e.F.columns) == list(p.F.columns)


def test_zip_identical_to_pymrio(fixture_zip, oracle):
    table = mriotrace.read_exiobase3_table(fixture_zip)
    assert (table.kind, table.year, table.root, table.extensions) == ("ixi", "2011", "IOT_2011_ixi/",
                                                                     ["satellite", "impacts"])
    s = table.system
    assert s.extensions_instance_names == ["satellite", "impacts"]
    assert s.impacts.get_rows().name == "impact"  # the file's index name survives
    assert s.satellite.unit.loc["CO2 - combustion - air", "unit"] == "1000 p"
    _check_against_pymrio(s, oracle)


def test_folder_same_as_zip(fixture_folder, oracle):
    # The unpacked folder: given as the folder holding IOT_2011_ixi/ and as IOT_2011_ixi/ itself.
    for path in (fixture_folder, fixture_folder / "IOT_2011_ixi"):
        _check_against_pymrio(mriotrace.read_exiobase3(path), oracle)


def test_accounts_equal_from_pymrio(fixture_zip, oracle):
    ours = mriotrace.read_exiobase3(fixture_zip)
    theirs = mriotrace.from_pymrio(oracle)
    ours.calc_all()
    theirs.calc_all()
    for name in ("satellite", "impacts"):
        for acc in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg"):
            a, b = getattr(ours.extension(name), acc), getattr(theirs.extension(name), acc)
            assert_close(a.to_numpy(), b.to_numpy(), rtol=1e-12, what=f"{name}.{acc}")
        # Identity: footprints add up to all stressors (F + F_Y). Only to 1e-7: the release prints
        # x to 8 digits, so x = Z1 + Y1 (and hence L Y1 = x) holds to that rounding.
        e = ours.extension(name)
        total = e.F.to_numpy().sum(axis=1) + e.F_Y.to_numpy().sum(axis=1)
        assert_close(e.D_cba_reg.to_numpy().sum(axis=1), total, rtol=1e-7, what=f"{name} D_cba total")


def test_footprints_by_dense_formulas_on_pymrio_arrays(fixture_zip, oracle):
    # Explicit dense formulas on the arrays pymrio parsed: M = S (I - A)^-1, D_cba_reg = M Y_r + F_Y_r.
    # (pymrio's own calc_all differs by ~1e-8 here: it does not use the printed x as given.)
    Z, Y, x = oracle.Z.to_numpy(), oracle.Y.to_numpy(), oracle.x.to_numpy().ravel()
    A = Z / x
    L = np.linalg.inv(np.eye(len(x)) - A)
    ours = mriotrace.read_exiobase3(fixture_zip)
    ours.calc_all()
    c = len(ours.Y_categories)
    for name in ("satellite", "impacts"):
        ext = getattr(oracle, name)
        S = ext.F.to_numpy() / x
        M = S @ L
        Yr = Y.reshape(len(x), len(REGIONS), c).sum(axis=2)
        FYr = ext.F_Y.to_numpy().reshape(-1, len(REGIONS), c).sum(axis=2)
        assert_close(ours.extension(name).M.to_numpy(), M, rtol=1e-10, what=f"{name} M")
        assert_close(ours.extension(name).D_cba_reg.to_numpy(), M @ Yr + FYr, rtol=1e-10, what=f"{name} D_cba_reg")


def test_pxp_from_A_and_S_only(tmp_path):
    # A release without Z.txt and F.txt (A, S only; older 3.x): x from x.txt, F = S diag(x).
    path = write_exiobase3(tmp_path, kind="pxp", year=2019, stressors=4, impacts=0, as_zip=False)
    root = path / "IOT_2019_pxp"
    (root / "Z.txt").unlink()
    (root / "satellite" / "F.txt").unlink()
    table = mriotrace.read_exiobase3_table(path)
    assert (table.kind, table.year, table.extensions) == ("pxp", "2019", ["satellite"])
    full = write_exiobase3(tmp_path / "full", kind="pxp", year=2019, stressors=4, impacts=0, as_zip=False)
    io = pymrio.parse_exiobase3(full / "IOT_2019_pxp")
    assert table.system.sectors[0].startswith("Product")
    # A and S are printed rounded, so Z and F agree to the printed 8 digits only.
    assert_close(table.system.A.to_numpy(), io.A.to_numpy(), rtol=1e-15, what="A")
    assert_close(table.system.satellite.S.to_numpy(), io.satellite.S.to_numpy(), rtol=1e-15, what="S")


def test_legacy_F_hh_and_options(tmp_path):
    path = write_exiobase3(tmp_path, legacy_F_hh=True, stressors=3, impacts=2, with_A=False, with_S=False)
    s = mriotrace.read_exiobase3(path)
    io = pymrio.parse_exiobase3(path)
    np.testing.assert_array_equal(s.satellite.F_Y.to_numpy(), io.satellite.F_Y.to_numpy())
    only = mriotrace.read_exiobase3(path, impacts=False)
    assert only.extensions_instance_names == ["satellite"]


# ---------------------------------------------------------------- bad files


def _rewrite_member(src: Path, dst: Path, member: str, edit) -> Path:
    """Copy a zip, passing one member's text through edit (None: leave it out)."""
    return rewrite_zip(src, dst, lambda name: name == member, edit)


def _replace_cell(text: str, line: int, column: int, value: str) -> str:
    lines = text.split("\n")
    cells = lines[line - 1].split("\t")
    cells[column - 1] = value
    lines[line - 1] = "\t".join(cells)
    return "\n".join(lines)


def test_non_numeric_cell_names_file_line_column(fixture_zip, tmp_path):
    bad = _rewrite_member(fixture_zip, tmp_path / "IOT_2011_ixi.zip", "IOT_2011_ixi/Z.txt",
                          lambda t: _replace_cell(t, 6, 5, "1.2.3"))
    with pytest.raises(mriotrace.InputError) as e:
        mriotrace.read_exiobase3(bad)
    msg = str(e.value)
    assert "IOT_2011_ixi/Z.txt" in msg and "line 6" in msg and "column 5" in msg and '"1.2.3"' in msg
    assert "AT, Industry 2, n.e.c." in msg  # the column's labels


def test_wrong_header_is_named(fixture_zip, tmp_path):
    bad = _rewrite_member(fixture_zip, tmp_path / "IOT_2011_ixi.zip", "IOT_2011_ixi/Y.txt",
                          lambda t: _replace_cell(t, 1, 3, "XX"))
    with pytest.raises(mriotrace.InputError, match=r"Y\.txt.*column"):
        mriotrace.read_exiobase3(bad)
    bad2 = _rewrite_member(fixture_zip, tmp_path / "b2.zip", "IOT_2011_ixi/satellite/F.txt",
                           lambda t: _replace_cell(t, 2, 2, "Industry 9"))
    with pytest.raises(mriotrace.InputError, match=r"satellite/F\.txt.*column"):
        mriotrace.read_exiobase3(bad2)


def test_missing_file_in_zip(fixture_zip, tmp_path):
    bad = _rewrite_member(fixture_zip, tmp_path / "IOT_2011_ixi.zip", "IOT_2011_ixi/Y.txt", lambda t: None)
    with pytest.raises(mriotrace.FileError, match="no Y.txt"):
        mriotrace.read_exiobase3(bad)
    # impacts/ without F.txt falls back to S.txt; without both, the error names what is missing.
    no_F = _rewrite_member(fixture_zip, tmp_path / "b2.zip", "IOT_2011_ixi/impacts/F.txt", lambda t: None)
    bad = _rewrite_member(no_F, tmp_path / "b3.zip", "IOT_2011_ixi/impacts/S.txt", lambda t: None)
    with pytest.raises(mriotrace.FileError, match=r"b3\.zip.*IOT_2011_ixi/impacts/S\.txt in the zip"):
        mriotrace.read_exiobase3(bad)


def test_truncated_files(fixture_zip, fixture_folder, tmp_path):
    # A cut zip: its central directory is gone.
    data = fixture_zip.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(mriotrace.FileError, match="cut.zip"):
        mriotrace.read_exiobase3(cut)
    # A cut text file in a folder: mid-row and at a row boundary.
    folder = tmp_path / "dir"
    shutil.copytree(fixture_folder, folder)
    z = folder / "IOT_2011_ixi" / "Z.txt"
    text = z.read_text()
    z.write_text(text[: int(len(text) * 0.7)])
    with pytest.raises((mriotrace.InputError, mriotrace.FileError), match=r"Z\.txt.*truncated"):
        mriotrace.read_exiobase3(folder)
    z.write_text("\n".join(text.split("\n")[:8]) + "\n")
    with pytest.raises(mriotrace.FileError, match=r"Z\.txt.*ends after 5 data rows; expected 12"):
        mriotrace.read_exiobase3(folder)
    # Bytes flipped at the start of the Z.txt member: libzip's consistency, inflate or CRC check.
    raw = bytearray(data)
    with zipfile.ZipFile(fixture_zip) as zf:
        info = zf.getinfo("IOT_2011_ixi/Z.txt")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 40):
        raw[i] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    with pytest.raises((mriotrace.FileError, mriotrace.InputError), match=r"damaged\.zip"):
        mriotrace.read_exiobase3(damaged)


def test_not_a_release(tmp_path):
    with pytest.raises(mriotrace.FileError, match="no such file or folder"):
        mriotrace.read_exiobase3(tmp_path / "nothing.zip")
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(mriotrace.FileError, match="x.zip"):
        mriotrace.read_exiobase3(tmp_path / "x.zip")


# ---------------------------------------------------------------- CLI end to end

CLI = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")


@pytest.mark.skipif(CLI is None, reason="the mriotrace program is not on PATH (set MRIOTRACE_CLI)")
def test_cli_import_then_footprint(fixture_zip, tmp_path):
    h5 = tmp_path / "x.h5"
    res = subprocess.run([CLI, "import-db", "exiobase3", str(fixture_zip), "-o", str(h5)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "3 regions x 4 sectors" in res.stdout and "9 stressors" in res.stdout
    stressor = "satellite::CO2 - combustion - air"
    out = tmp_path / "f.csv"
    res = subprocess.run([CLI, "footprint", str(h5), "--stressor", stressor, "-o", str(out)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["region"] for r in rows] == REGIONS and {r["stressor"] for r in rows} == {stressor}
    assert {r["unit"] for r in rows} == {"1000 p"}
    ours = mriotrace.read_exiobase3(fixture_zip)
    ours.calc_all()
    expected = ours.satellite.D_cba_reg.loc["CO2 - combustion - air"].to_numpy()
    assert_close(np.array([float(r["D_cba_reg"]) for r in rows]), expected, rtol=1e-12, what="CLI D_cba_reg")
    # A bad path: one line on stderr, exit code 1.
    res = subprocess.run([CLI, "import-db", "exiobase3", str(tmp_path / "none.zip"), "-o", str(h5)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "none.zip" in res.stderr


def test_one_thread_reads_the_same(fixture_zip):
    # Zip members are decompressed on a second thread by default; threads=1 reads all on one.
    a, b = mriotrace.read_exiobase3(fixture_zip), mriotrace.read_exiobase3(fixture_zip, threads=1)
    np.testing.assert_array_equal(a.A.to_numpy(), b.A.to_numpy())
    np.testing.assert_array_equal(a.impacts.S.to_numpy(), b.impacts.S.to_numpy())
    np.testing.assert_array_equal(a.Y.to_numpy(), b.Y.to_numpy())
