"""The native WIOD 2016 reader on fixtures in the published layout (tests/python/wiod_fixture.py)."""

from __future__ import annotations

import subprocess
import zipfile

import numpy as np
import pytest

import mriotrace
import wiod_fixture as wf


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("wiod")
    wiot = d / "WIOT2014_Nov16_ROW.xlsx"
    table = wf.write_wiot(wiot)
    env = wf.make_env()
    wf.write_env(d / "CO2 emissions.xlsx", env)
    return dict(dir=d, wiot=wiot, table=table, env=env, co2=d / "CO2 emissions.xlsx")


@pytest.fixture(scope="module")
def read(files):
    return mriotrace.readers.read_wiod2016_table(files["wiot"], env={"CO2": (files["co2"], "kt")})


def test_labels_and_units(read):
    s = read.system
    assert read.year == "2014" and read.sheet == "2014"
    assert list(s.get_regions()) == wf.REGIONS
    assert list(s.get_sectors()) == [c for c, _ in wf.SECTORS]
    assert list(s.get_Y_categories()) == [c for c, _ in wf.CATEGORIES]
    assert s.monetary_unit == "millions of US$"
    assert read.sector_names["C19"] == "Manufacture of coke and refined petroleum products"
    assert read.category_names["GFCF"] == "Gross fixed capital formation"
    assert list(s.factor_inputs.get_rows()) == [c for c, _ in wf.FACTORS]
    assert set(s.factor_inputs.unit["unit"]) == {"millions of US$"}
    assert list(s.env.get_rows()) == ["CO2"] and list(s.env.unit["unit"]) == ["kt"]
    assert read.max_imbalance < 1e-12


def test_values(read, files):
    s, t = read.system, files["table"]
    np.testing.assert_allclose(s.Z.to_numpy(), t["Z"], rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(s.Y.to_numpy(), t["Y"], rtol=1e-15)
    np.testing.assert_allclose(s.x.to_numpy()[:, 0], t["x"], rtol=1e-15)
    np.testing.assert_allclose(s.factor_inputs.F.to_numpy(), t["F"], rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(s.factor_inputs.F_Y.to_numpy(), t["F_Y"], rtol=1e-15)
    # CO2 of 2014: sector rows to F, households to F_Y under CONS_h of the same country
    F = np.concatenate([files["env"][(r, 2014)][0] for r in wf.REGIONS])
    np.testing.assert_allclose(s.env.F.to_numpy()[0], F, rtol=1e-15)
    FY = s.env.F_Y
    for r in wf.REGIONS:
        assert FY.loc["CO2", (r, "CONS_h")] == pytest.approx(files["env"][(r, 2014)][1], rel=1e-15)
        assert FY.loc["CO2", (r, "GFCF")] == 0.0


def test_identities(read):
    s = read.system
    Z, x = s.Z.to_numpy(), s.x.to_numpy()[:, 0]
    np.testing.assert_allclose(Z.sum(1) + s.Y.to_numpy().sum(1), x, rtol=1e-12)       # rows
    np.testing.assert_allclose(Z.sum(0) + s.v.to_numpy().ravel(), x, rtol=1e-12)      # columns: Z'1 + v = GO
    np.testing.assert_allclose(s.v.to_numpy().ravel(), s.factor_inputs.F.to_numpy().sum(0), rtol=1e-10)
    s.calc_all()
    # all CO2 (industries + households) is attributed to final demand
    total = s.env.F.to_numpy().sum() + s.env.F_Y.to_numpy().sum()
    assert s.env.D_cba_reg.to_numpy().sum() == pytest.approx(total, rel=1e-10)


def test_other_sheet_and_year_from_title(tmp_path):
    p = tmp_path / "table.xlsx"  # no year in the file name: the title cell gives it
    wf.write_wiot(p, wf.make_table(regions=["AUS", "ROW"], sectors=wf.SECTORS[:3]), year=2010, sheet="Data")
    t = mriotrace.readers.read_wiod2016_table(p)
    assert t.year == "2010" and t.sheet == "Data" and t.system.get_regions().tolist() == ["AUS", "ROW"]


def test_header_rows_found_by_content(tmp_path, files):
    p = tmp_path / "WIOT2014_Nov16_ROW.xlsx"
    wf.write_wiot(p, files["table"], shift=2)  # two more rows on top: header in rows 5-8, data from row 9
    s = mriotrace.readers.read_wiod2016(p)
    np.testing.assert_allclose(s.Y.to_numpy(), files["table"]["Y"], rtol=1e-15)
    assert list(s.get_sectors()) == [c for c, _ in wf.SECTORS]


def _small(tmp_path, name="WIOT2014_Nov16_ROW.xlsx", **kw):
    p = tmp_path / name
    wf.write_wiot(p, wf.make_table(regions=["AUS", "ROW"], sectors=wf.SECTORS[:3]), **kw)
    return p


def test_non_numeric_cell_names_file_sheet_cell(tmp_path):
    # row 9 = AUS A03, column G = the third sector column
    p = _small(tmp_path, cell_override={(9, 6): "n/a"})
    with pytest.raises(mriotrace.InputError, match=r'WIOT2014_Nov16_ROW\.xlsx, sheet "2014", cell G9 '
                                                   r"\(AUS A03 row\): text 'n/a'; expected a number"):
        mriotrace.readers.read_wiod2016(p)


def test_wrong_header(tmp_path):
    p = _small(tmp_path, cell_override={(3, 8): "XYZ"})  # ROW's second sector code (the first country's are the list)
    with pytest.raises(mriotrace.InputError, match=r'sheet "2014", cell I3: ROW XYZ; expected ROW A02'):
        mriotrace.readers.read_wiod2016(p)
    p = _small(tmp_path, name="b.xlsx", cell_override={(3, 4 + 6 + 1): "CONS_x"})  # a final-demand code
    with pytest.raises(mriotrace.InputError, match=r"cell L3: 'CONS_x'; expected a final-demand code"):
        mriotrace.readers.read_wiod2016(p)
    p = _small(tmp_path, name="c.xlsx", cell_override={(8, 2): "CHN"})  # row country label
    with pytest.raises(mriotrace.InputError, match=r"cell C8: row labelled CHN A02; expected AUS A02"):
        mriotrace.readers.read_wiod2016(p)


def test_missing_sheet(tmp_path):
    p = _small(tmp_path)
    with pytest.raises(mriotrace.FileError, match=r'has no sheet "2013"; its sheets: "2014"'):
        mriotrace.readers.read_wiod2016(p, sheet="2013")


def test_truncated_and_foreign_files(tmp_path):
    p = _small(tmp_path)
    data = p.read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(mriotrace.FileError, match=r"cut\.xlsx.*truncated"):
        mriotrace.readers.read_wiod2016(cut)
    not_zip = tmp_path / "WIOT2014_Nov16_ROW.xlsb"
    not_zip.write_bytes(b"\x00\x01 binary workbook")
    with pytest.raises(mriotrace.FileError, match=r"as an \.xlsx workbook"):
        mriotrace.readers.read_wiod2016(not_zip)
    with pytest.raises(mriotrace.FileError, match="no such file"):
        mriotrace.readers.read_wiod2016(tmp_path / "absent.xlsx")
    # a zip without the sheet's part (damaged inside, a complete zip)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item))
    with pytest.raises(mriotrace.FileError, match=r"sheet1\.xml.*missing"):
        mriotrace.readers.read_wiod2016(damaged)
    # the sheet's XML cut inside a complete zip
    cut_xml = tmp_path / "cut_xml.xlsx"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(cut_xml, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(item, body[: len(body) // 2] if item.filename == "xl/worksheets/sheet1.xml" else body)
    with pytest.raises(mriotrace.FileError, match=r'sheet "2014".*not well-formed XML'):
        mriotrace.readers.read_wiod2016(cut_xml)


def test_truncated_table(tmp_path):
    t = wf.make_table(regions=["AUS", "ROW"], sectors=wf.SECTORS[:3])
    p = tmp_path / "WIOT2014_Nov16_ROW.xlsx"
    # rows 7.. are the 6 sector rows: blank out the last ones and everything below
    wf.write_wiot(p, t, cell_override={(r, c): None for r in range(11, 30) for c in range(0, 40)})
    with pytest.raises(mriotrace.InputError, match=r"4 sector rows; expected 6"):
        mriotrace.readers.read_wiod2016(p)


def test_env_errors(tmp_path, files):
    env = wf.make_env()
    wf.write_env(tmp_path / "e1.xlsx", env, skip_sheet="DEU")
    with pytest.raises(mriotrace.InputError, match=r'e1\.xlsx \(environmental account "CO2"\) has no sheet "DEU"'):
        mriotrace.readers.read_wiod2016(files["wiot"], env={"CO2": tmp_path / "e1.xlsx"})
    wf.write_env(tmp_path / "e2.xlsx", env, years=range(2000, 2010))
    with pytest.raises(mriotrace.InputError, match=r"no column for year 2014"):
        mriotrace.readers.read_wiod2016(files["wiot"], env={"CO2": tmp_path / "e2.xlsx"})
    wf.write_env(tmp_path / "e3.xlsx", env, households="Cars")
    with pytest.raises(mriotrace.InputError, match=r"cell A10: 'Cars' is not a sector code"):
        mriotrace.readers.read_wiod2016(files["wiot"], env=[("CO2", tmp_path / "e3.xlsx", "kt")])


def test_cli_import_db(tmp_path, files):
    out = tmp_path / "wiod.h5"
    r = subprocess.run(["mriotrace", "import-db", "wiod2016", str(files["wiot"]), "--env",
                        f"CO2:kt={files['co2']}", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "imported WIOD 2016 2014: 4 regions x 8 sectors" in r.stdout
    s = mriotrace.load(out)
    np.testing.assert_allclose(s.x.to_numpy()[:, 0], files["table"]["x"], rtol=1e-15)
    assert "env::CO2" in [f"{e}::{row}" for e in s.extensions_instance_names
                          for row in getattr(s, e).get_rows()]
    r = subprocess.run(["mriotrace", "import-db", "wiod2016", str(tmp_path / "absent.xlsx"), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.startswith("mriotrace: error: ") and "no such file" in r.stderr
