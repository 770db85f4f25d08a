"""FIGARO native reader: generated csv matrices in the published layout, against a pandas parse of the same file.

pymrio 0.7 has no FIGARO parser: the oracle is the csv read with pandas and
assembled into a pymrio.IOSystem, whose accounts (via from_pymrio) must equal
those of the native reader to 1e-12.
"""

from __future__ import annotations

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
from global_fixtures import FIGARO_FD, FIGARO_INDUSTRIES, FIGARO_REGIONS, FIGARO_VA, write_figaro

pymrio = pytest.importorskip("pymrio")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_figaro(tmp_path_factory.mktemp("figaro")).parent


def _oracle(csv_path: Path):
    """The csv parsed by pandas into a pymrio IOSystem (Z, Y, factor_inputs)."""
    raw = pd.read_csv(csv_path, index_col=0)
    fd = [c for c in raw.columns if c.split("_", 1)[1] in FIGARO_FD]
    z = [c for c in raw.columns if c not in fd]
    split = lambda labels, names: pd.MultiIndex.from_tuples([tuple(s.split("_", 1)) for s in labels], names=names)
    Z = raw.loc[z, z].astype(float)
    Z.index, Z.columns = split(z, ["region", "sector"]), split(z, ["region", "sector"])
    Y = raw.loc[z, fd].astype(float)
    Y.index, Y.columns = Z.index, split(fd, ["region", "category"])
    F = raw.loc[FIGARO_VA, z].astype(float)
    F.columns = Z.columns
    F.index.name = "inputtype"
    F_Y = raw.loc[FIGARO_VA, fd].astype(float)
    F_Y.columns = Y.columns
    F_Y.index = F.index
    unit = pd.DataFrame({"unit": "M.EUR"}, index=F.index)
    return pymrio.IOSystem(Z=Z, Y=Y, unit=pd.DataFrame({"unit": "M.EUR"}, index=Z.index),
                           factor_inputs={"name": "factor_inputs", "F": F, "F_Y": F_Y, "unit": unit})


def _check(ours: mriotrace.MRIOSystem, io, codes) -> None:
    assert list(ours.regions) == FIGARO_REGIONS and list(ours.sectors) == codes
    assert list(ours.Y_categories) == FIGARO_FD and ours.monetary_unit == "M.EUR"
    assert list(ours.get_index()) == list(io.Z.index) and list(ours.Y.columns) == list(io.Y.columns)
    np.testing.assert_array_equal(ours.Y.to_numpy(), io.Y.to_numpy())
    np.testing.assert_allclose(ours.Z.to_numpy(), io.Z.to_numpy(), rtol=4.5e-16, atol=0)
    fi = ours.factor_inputs
    assert list(fi.get_rows()) == FIGARO_VA and fi.get_rows().name == "inputtype"
    np.testing.assert_allclose(fi.F.to_numpy(), io.factor_inputs.F.to_numpy(), rtol=4.5e-16, atol=0)
    np.testing.assert_array_equal(fi.F_Y.to_numpy(), io.factor_inputs.F_Y.to_numpy())


def test_both_kinds_identical_to_pandas(folder):
    for kind, word, codes in (("ixi", "ind-by-ind", FIGARO_INDUSTRIES),
                              ("pxp", "prod-by-prod", [f"CPA_{c}" for c in FIGARO_INDUSTRIES])):
        csv_path = folder / f"matrix_eu-ic-io_{word}_23ed_2021.csv"
        s = mriotrace.read_figaro(folder, kind=kind)
        assert s.metadata["kind"] == kind and s.metadata["year"] == "2021"
        assert s.name == "FIGARO 2021 (" + ("industry by industry)" if kind == "ixi" else "product by product)")
        _check(s, _oracle(csv_path), codes)
        _check(mriotrace.readers.read_figaro(csv_path), _oracle(csv_path), codes)
    with pytest.raises(mriotrace.InputError, match=r"holds 2 tables .*ind-by-ind.*prod-by-prod.*year"):
        mriotrace.read_figaro(folder)


def test_zip_and_quoted_labels(tmp_path):
    z = write_figaro(tmp_path / "z", years=(2020, 2021), as_zip=True, quote_labels=True)
    s = mriotrace.read_figaro(z, 2021, kind="ixi")
    assert s.metadata["file"].endswith("FIGARO.zip:matrix_eu-ic-io_ind-by-ind_23ed_2021.csv")
    name = "matrix_eu-ic-io_ind-by-ind_23ed_2021.csv"
    with zipfile.ZipFile(z) as zf:
        (tmp_path / name).write_bytes(zf.read(name))
    assert (tmp_path / name).read_bytes().startswith(b'"rowLabels","AR_A01"')
    _check(s, _oracle(tmp_path / name), FIGARO_INDUSTRIES)


def test_accounts_equal_from_pymrio(folder):
    csv_path = folder / "matrix_eu-ic-io_ind-by-ind_23ed_2021.csv"
    ours, theirs = mriotrace.read_figaro(csv_path), mriotrace.from_pymrio(_oracle(csv_path))
    ours.calc_all()
    theirs.calc_all()
    for acc in ("M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg"):
        assert_close(getattr(ours.factor_inputs, acc).to_numpy(), getattr(theirs.factor_inputs, acc).to_numpy(),
                     rtol=1e-12, what=f"factor_inputs.{acc}")


def _edit(src: Path, dst: Path, row: int, column: int, value: str) -> Path:
    lines = src.read_bytes().decode().split("\r\n")
    cells = lines[row - 1].split(",")
    cells[column - 1] = value
    lines[row - 1] = ",".join(cells)
    dst.write_bytes("\r\n".join(lines).encode())
    return dst


def test_bad_files(folder, tmp_path):
    src = folder / "matrix_eu-ic-io_ind-by-ind_23ed_2021.csv"
    with pytest.raises(mriotrace.InputError, match=r"bad\.csv\" row 8, column 4 \(AT_A01 x AR_B\): \"x\" is not a number"):
        mriotrace.read_figaro(_edit(src, tmp_path / "bad.csv", 8, 4, "x"))
    with pytest.raises(mriotrace.InputError, match=r"h\.csv\" row 1, column 33 is AT_P3_S13; expected AR_P3_S14 \(every region with the same 5 final-demand categories"):
        mriotrace.read_figaro(_edit(src, tmp_path / "h.csv", 1, 33, "AT_P3_S13"))
    text = src.read_bytes().decode()
    (tmp_path / "cut.csv").write_bytes(text[: len(text) // 2].encode())
    with pytest.raises((mriotrace.InputError, mriotrace.FileError), match=r"cut\.csv.*truncated"):
        mriotrace.read_figaro(tmp_path / "cut.csv")
    with pytest.raises(mriotrace.FileError, match=r"folder .* holds no 2019 csv table"):
        mriotrace.read_figaro(folder, 2019, kind="ixi")


CLI = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace")


@pytest.mark.skipif(CLI is None, reason="the mriotrace program is not on PATH (set MRIOTRACE_CLI)")
def test_cli_import(folder, tmp_path):
    h5 = tmp_path / "f.h5"
    res = subprocess.run([CLI, "import-db", "figaro", str(folder), "--kind", "pxp", "-o", str(h5)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "imported FIGARO 2021 pxp: 5 regions x 6 sectors, 5 final-demand categories, 6 stressors (M.EUR)" in res.stdout
    back = mriotrace.load(h5)
    assert_close(back.Y.to_numpy(), mriotrace.read_figaro(folder, kind="pxp").Y.to_numpy(), rtol=0, what="Y")


def test_coefficients_bit_identical_to_building_from_Z(folder):
    # The reader hands the engine A (Z scaled in place, x summed as build sums it): the same doubles as
    # building the system from the flows.
    csv_path = folder / "matrix_eu-ic-io_ind-by-ind_23ed_2021.csv"
    raw = pd.read_csv(csv_path, index_col=0)
    fd = [c for c in raw.columns if c.split("_", 1)[1] in FIGARO_FD]
    z = [c for c in raw.columns if c not in fd]
    s = mriotrace.read_figaro(csv_path)
    ref = mriotrace.MRIOSystem.from_arrays(list(s.regions), list(s.sectors), list(s.Y_categories),
                                           Z=raw.loc[z, z].to_numpy(), Y=raw.loc[z, fd].to_numpy())
    np.testing.assert_array_equal(s.A.to_numpy(), ref.A.to_numpy())
    np.testing.assert_array_equal(s.x.to_numpy(), ref.x.to_numpy())
