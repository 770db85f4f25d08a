"""Readers of real Chinese data (NBS tables, CEADs inventories), concordances and china_national.

Real files come from ../shared/data (require_data); bad workbooks are made
here with xlsxwriter from the real layout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mriotrace
from mriotrace import concordance, datasets, readers
from mriotrace.readers import _sheet

from ceads_mrio_fixture import write_ceads_mrio
from conftest import assert_close, data_dir, require_data

CEADS_2017_TOTAL = 9408.170796176375  # Scope 1 Total of the national 2017 sheet (cell W4)


def _grid_to_xlsx(path, grids: dict, numeric_codes: bool = False):
    """Write object grids (sheet -> 2-D array of str/float) as an .xlsx workbook."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for name, grid in grids.items():
        ws = wb.add_worksheet(name)
        for (r, c), v in np.ndenumerate(grid):
            s = str(v)
            try:
                num = float(s)
                is_num = s not in ("", "nan") and (numeric_codes or not (s.isdigit() and s.startswith("0")))
            except ValueError:
                is_num = False
            if is_num and np.isfinite(num):
                ws.write_number(r, c, num)
            elif s:
                ws.write_string(r, c, s)
    wb.close()


# ------------------------------------------------------------------ NBS
@pytest.fixture(scope="module")
def nbs153():
    return readers.read_nbs(require_data("china/nbs/china_2018_153.csv"))


def test_nbs_153_proportional_imports_balance(nbs153):
    t = nbs153
    assert t.imports_treatment == "proportional"
    assert t.n == 153 and t.Z.shape == (153, 153) and list(t.Z.index[:2]) == ["001", "002"]
    assert list(t.Y.columns) == ["Rural household consumption", "Urban household consumption",
                                 "Government consumption", "Gross fixed capital formation", "Changes in inventories",
                                 "Exports"]
    # after removing imports every row is used exactly as produced
    assert_close(t.Z.sum(axis=1) + t.Y.sum(axis=1), t.x, rtol=1e-9, what="domestic rows")
    # ... and the removed imports are the IM column, up to the published row imbalance
    raw = pd.read_csv(require_data("china/nbs/china_2018_153.csv"), dtype={"Code": str}).set_index("Code")
    im = raw.loc[t.x.index, "IM"].astype(float)
    assert abs(t.imports.sum() + t.imports_final.sum() - im.sum()) <= 1e-6 * im.sum()
    assert_close(t.x, raw.loc[t.x.index, "GO"].astype(float), rtol=1e-15)
    assert 0 <= t.max_imbalance < 1e-6
    assert t.sectors.loc["061", "name"] == "Smelting of steel"


def test_nbs_149_table_reads_and_balances():
    path = require_data("china/nbs/china_2017_149.csv")
    t = readers.read_nbs(path)
    assert t.n == 149 and t.Z.shape == (149, 149) and t.imports_treatment == "proportional"
    raw = pd.read_csv(path, dtype={"Code": str}).set_index("Code")
    assert_close(t.x, raw.loc[t.x.index, "GO"].astype(float), rtol=1e-15)
    assert_close(t.Z.sum(axis=1) + t.Y.sum(axis=1), t.x, rtol=1e-9, what="domestic rows")
    assert 0 <= t.max_imbalance < 1e-6


def test_nbs_42_split_table_domestic_technology():
    path = require_data("china/nbs/china_2017_42.csv")
    t = readers.read_nbs(path)
    assert t.imports_treatment == "domestic" and t.n == 42
    raw = pd.read_csv(path, dtype={"Code": str})
    dom = raw[raw.Origin == "Domestic"].set_index("Code")
    imp = raw[raw.Origin == "Imports"].set_index("Code")
    assert_close(t.Z.to_numpy(), dom.loc[t.x.index, list(t.x.index)].to_numpy(float), rtol=1e-15)
    assert_close(t.imports, imp[list(t.x.index)].to_numpy(float).sum(axis=0), rtol=1e-12)
    assert list(t.Y.columns) == ["Final consumption", "Gross fixed capital formation", "Changes in inventories",
                                 "Exports"]
    rel = np.abs(t.Z.sum(axis=1) + t.Y.sum(axis=1) - t.x) / t.x
    assert rel.max() <= t.max_imbalance + 1e-12
    # the other treatment on the same table: rows then balance exactly
    p = readers.read_nbs(path, imports="proportional")
    assert p.imports_treatment == "proportional"
    assert_close(p.Z.sum(axis=1) + p.Y.sum(axis=1), p.x, rtol=1e-9)
    # proportional removal spreads the imports over every use: domestic Z differs, totals are close
    assert 1e-4 < abs(p.Z.to_numpy().sum() - t.Z.to_numpy().sum()) / t.Z.to_numpy().sum() < 0.02
    assert p.imports.sum() + p.imports_final.sum() == pytest.approx(t.imports.sum() + t.imports_final.sum(), rel=0.05)


def test_nbs_xlsx_equals_csv(tmp_path, nbs153):
    grid = _sheet.read_grid(require_data("china/nbs/china_2018_153.csv"))
    for numeric_codes in (False, True):
        p = tmp_path / f"nbs_{numeric_codes}.xlsx"
        _grid_to_xlsx(p, {"2018": grid}, numeric_codes=numeric_codes)
        t = readers.read_nbs(p)
        assert list(t.x.index) == list(nbs153.x.index)
        assert_close(t.Z.to_numpy(), nbs153.Z.to_numpy(), rtol=1e-15)
        assert_close(t.Y.to_numpy(), nbs153.Y.to_numpy(), rtol=1e-15)


def test_nbs_imbalance_beyond_tolerance_is_an_error(tmp_path):
    grid = _sheet.read_grid(require_data("china/nbs/china_2018_153.csv"))
    go = list(grid[0]).index("GO")
    grid[5, go] = str(float(grid[5, go]) * 1.01)
    p = tmp_path / "off.csv"
    pd.DataFrame(grid).to_csv(p, header=False, index=False)
    with pytest.raises(mriotrace.InputError, match=r"balance of sector 005 is off by 0\.0099"):
        readers.read_nbs(p)
    with pytest.warns(UserWarning, match="largest imbalance"):
        readers.read_nbs(p, tolerance=0.05)


def test_nbs_bad_workbooks(tmp_path):
    grid = _sheet.read_grid(require_data("china/nbs/china_2018_153.csv"))
    good = tmp_path / "good.xlsx"
    _grid_to_xlsx(good, {"IO": grid})
    with pytest.raises(mriotrace.InputError, match=r'good\.xlsx: no sheet "Sheet9"; the workbook has \[\'IO\'\]'):
        readers.read_nbs(good, sheet="Sheet9")
    bad = grid.copy()
    bad[16, 2 + 1] = "n/a"                       # row 17, column D: a sector cell
    p = tmp_path / "text.xlsx"
    _grid_to_xlsx(p, {"IO": bad})
    with pytest.raises(mriotrace.InputError, match=r'text\.xlsx, sheet "IO", cell D17: text \'n/a\'; expected a number'):
        readers.read_nbs(p)
    nogo = grid[:, :-1]
    p = tmp_path / "nogo.xlsx"
    _grid_to_xlsx(p, {"IO": nogo})
    with pytest.raises(mriotrace.InputError, match=r"missing column\(s\) \['GO'\]"):
        readers.read_nbs(p)
    trunc = tmp_path / "trunc.xlsx"
    trunc.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(mriotrace.FileError, match="trunc.xlsx: truncated"):
        readers.read_nbs(trunc)
    with pytest.raises(mriotrace.FileError, match="no such file"):
        readers.read_nbs(tmp_path / "missing.csv")
    with pytest.raises(mriotrace.InputError, match="needs Domestic/Imports rows"):
        readers.read_nbs(good, imports="domestic")


# ------------------------------------------------------------------ CEADs
def test_ceads_national_scope1_only():
    path = require_data("china/ceads/national_1997-2019.xlsx")
    inv = readers.read_ceads_inventory(path, 2017)
    assert inv.name == "2017" and len(inv.sectors) == 45 and inv.sectors[0].startswith("Farming")
    assert list(inv.households.columns) == ["Urban", "Rural"]
    assert "Scope 2 Electricity" not in inv.by_source.index and len(inv.by_source) == 19
    assert inv.total == pytest.approx(CEADS_2017_TOTAL, rel=1e-15)
    assert (inv.industry.sum() + inv.households.to_numpy().sum()) == pytest.approx(CEADS_2017_TOTAL, rel=1e-12)
    steel = inv.by_source["Smelting and Pressing of Ferrous Metals"]
    assert steel["Coke Oven Gas"] > 0 and steel["Process"] == 0
    assert inv.by_source.loc["Process", "Nonmetal Mineral Products"] > 500  # cement, Mt
    every = readers.read_ceads_inventory(path)
    assert sorted(every) == [str(y) for y in range(1997, 2020)]


def test_ceads_provinces_keep_nan_names():
    path = require_data("china/ceads/provinces_2017.xlsx")
    every = readers.read_ceads_inventory(path)
    assert len(every) == 30
    for name in ("Henan", "Hunan", "Hainan", "Yunnan", "Jilin", "Zhejiang"):
        assert name in every, name
        inv = every[name]
        assert inv.name == name and np.isfinite(inv.by_source.to_numpy()).all()
        assert inv.industry.sum() + inv.households.to_numpy().sum() == pytest.approx(inv.total, rel=1e-12)
    assert readers.read_ceads_inventory(path, "Henan").total == every["Henan"].total
    # the 2019 files spell columns with underscores and "TotalEmissions"
    inv19 = readers.read_ceads_inventory(require_data("china/ceads/provinces_2019.xlsx"), "Hainan")
    assert inv19.name == "Hainan" and inv19.sectors == inv.sectors and inv19.total > 0


def _ceads_grid():
    return _sheet.read_grid(require_data("china/ceads/national_1997-2019.xlsx"), "2017")


def test_ceads_scope2_columns_are_not_counted(tmp_path):
    g = _ceads_grid()
    header = [str(v) for v in g[0]]
    j = header.index("Scope 2 Electricity")
    g[4, j] = 123.0  # a reallocation: must not change Scope 1
    p = tmp_path / "s2.xlsx"
    _grid_to_xlsx(p, {"2017": g})
    inv = readers.read_ceads_inventory(p, "2017")
    assert inv.total == pytest.approx(CEADS_2017_TOTAL, rel=1e-15)


def test_ceads_bad_workbooks(tmp_path):
    g = _ceads_grid()
    p = tmp_path / "text.xlsx"
    bad = g.copy()
    bad[16, 2] = "abc"
    _grid_to_xlsx(p, {"2017": bad})
    with pytest.raises(mriotrace.InputError, match=r'text\.xlsx, sheet "2017", cell C17: text \'abc\''):
        readers.read_ceads_inventory(p, 2017)
    with pytest.raises(mriotrace.InputError, match=r'no sheet "2016"; inventory sheets: \[\'2017\'\]'):
        readers.read_ceads_inventory(p, 2016)
    p = tmp_path / "nocol.xlsx"
    _grid_to_xlsx(p, {"2017": np.delete(g, list(g[0]).index("Process"), axis=1)})
    with pytest.raises(mriotrace.InputError, match=r"nocol\.xlsx, sheet \"2017\", row 1: missing column\(s\) \['Process'\]"):
        readers.read_ceads_inventory(p, 2017)
    p = tmp_path / "sum.xlsx"
    bad = g.copy()
    bad[10, 1] = float(bad[10, 1]) + 1.0   # Raw Coal no longer adds up to Scope 1 Total
    _grid_to_xlsx(p, {"2017": bad})
    with pytest.raises(mriotrace.InputError, match=r"cell W11: Scope 1 Total"):
        readers.read_ceads_inventory(p, 2017)
    trunc = tmp_path / "trunc.xlsx"
    trunc.write_bytes((tmp_path / "sum.xlsx").read_bytes()[:1500])
    with pytest.raises(mriotrace.FileError, match=r"trunc\.xlsx: truncated or not an \.xlsx workbook"):
        readers.read_ceads_inventory(trunc, 2017)
    p = tmp_path / "empty.xlsx"
    _grid_to_xlsx(p, {"NOTE": np.array([["x"]], dtype=object)})
    with pytest.raises(mriotrace.InputError, match="no inventory sheets"):
        readers.read_ceads_inventory(p)


# ------------------------------------------------------------------ concordances
def test_shipped_concordances_map_every_ceads_sector(nbs153):
    inv = readers.read_ceads_inventory(require_data("china/ceads/national_1997-2019.xlsx"), 2018)
    for n, targets in ((42, [f"{i:02d}" for i in range(1, 43)]), (153, list(nbs153.x.index))):
        c = concordance.Concordance.shipped(f"ceads47_nbs{n}")
        c.check(inv.sectors, targets)
        assert set(c.targets) == set(targets)  # every NBS sector receives something
        assert "comment" in c.pairs.columns and (c.pairs["comment"].str.contains("judgement")).sum() >= 5
    c = concordance.Concordance.shipped("ceads47_nbs153")
    W = c.weights("output", output=nbs153.x, sources=inv.sectors, targets=nbs153.x.index)
    assert_close(W.sum(axis=1), np.ones(45), rtol=1e-15)
    coking = W.loc["Petroleum Processing and Coking", ["041", "042"]]
    assert_close(coking, nbs153.x[["041", "042"]] / nbs153.x[["041", "042"]].sum(), rtol=1e-14)
    F = c.apply(inv.stressors()[0], output=nbs153.x, targets=nbs153.x.index)
    assert F.shape == (1, 153) and F.to_numpy().sum() == pytest.approx(inv.industry.sum(), rel=1e-13)


def test_concordance_dict_weights_and_errors():
    c = concordance.Concordance.from_dict({"a": "X", "b": ["X", "Y"], "c": {"Y": 3, "Z": 1}})
    assert list(c.targets) == ["X", "Y", "Z"]
    W = c.weights("equal")
    assert W.loc["b"].tolist() == [0.5, 0.5, 0.0]
    W = c.weights("output", output=pd.Series({"X": 1.0, "Y": 3.0, "Z": 4.0}))
    assert W.loc["b"].tolist() == [0.25, 0.75, 0.0] and W.loc["c"].tolist() == [0.0, 3 / 7, 4 / 7]
    d = pd.DataFrame([[1.0, 2.0, 4.0]], columns=["a", "b", "c"])
    out = c.apply(d, by=pd.Series({"X": 1.0, "Y": 1.0, "Z": 1.0}))
    assert out.to_numpy().tolist() == [[2.0, 3.0, 2.0]]
    with pytest.raises(mriotrace.InputError, match=r"does not map 1 source\(s\): \['d'\]"):
        c.check(["a", "b", "c", "d"])
    with pytest.raises(mriotrace.InputError, match=r"unknown target\(s\) \['Z'\]"):
        c.check(targets=["X", "Y"])
    with pytest.warns(UserWarning, match="split equally"):
        W = c.weights("output", output=pd.Series({"X": 1.0, "Y": 0.0, "Z": 0.0}))
    assert W.loc["c"].tolist() == [0.0, 0.5, 0.5]


def test_concordance_csv_with_weights(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("# a comment\nsource,target,weight,comment\n01,A,2,\n01,B,1,judgement\n02,B,,\n")
    c = concordance.Concordance.from_csv(p)
    assert list(c.sources) == ["01", "02"]
    with pytest.raises(mriotrace.InputError, match="needs a weight on every row"):
        c.weights("file")
    p.write_text("source,target,weight\n01,A,3\n01,B,1\n02,B,5\n")
    W = concordance.Concordance.from_csv(p).weights("file")
    assert W.loc["01"].tolist() == [0.75, 0.25] and W.loc["02"].tolist() == [0.0, 1.0]
    p.write_text("source,target,weight\n01,A,2\n01,B,x\n")
    with pytest.raises(mriotrace.InputError, match="line 3: weight 'x' is not a number"):
        concordance.Concordance.from_csv(p)


def test_aggregate_equals_pymrio():
    pytest.importorskip("pymrio")
    sys_ = datasets.generate(regions=3, sectors=4, fd_categories=2, stressors=2, seed=7)
    reg = ["A", "A", "B"]
    sec = ["s", "t", "s", "t"]
    ours = concordance.aggregate(sys_, regions=reg, sectors=sec)
    io = sys_.to_pymrio()
    io.aggregate(region_agg=reg, sector_agg=sec)
    theirs_Z = io.Z.sort_index(axis=0).sort_index(axis=1)
    assert_close(ours.Z.sort_index(axis=0).sort_index(axis=1).to_numpy(), theirs_Z.to_numpy(), rtol=1e-12)
    assert_close(ours.Y.sort_index(axis=0).sort_index(axis=1).to_numpy(),
                 io.Y.sort_index(axis=0).sort_index(axis=1).to_numpy(), rtol=1e-12)
    ext = ours.extension(ours.extensions_instance_names[0])
    pext = getattr(io, ours.extensions_instance_names[0])
    assert_close(ext.F.sort_index(axis=1).to_numpy(), pext.F.sort_index(axis=1).to_numpy(), rtol=1e-12)
    assert_close(ext.F_Y.sort_index(axis=1).to_numpy(), pext.F_Y.sort_index(axis=1).to_numpy(), rtol=1e-12)
    ours.calc_all()
    sys_.calc_all()
    e0 = sys_.extension(sys_.extensions_instance_names[0])
    assert ext.D_cba.to_numpy().sum() == pytest.approx(e0.D_cba.to_numpy().sum(), rel=1e-9)
    with pytest.raises(mriotrace.InputError, match="does not map"):
        concordance.aggregate(sys_, regions={"R0": "A", "R1": "A"})


# ------------------------------------------------------------------ china_national
@pytest.fixture(scope="module")
def china2018():
    require_data("china/nbs/china_2018_153.csv")
    return datasets.china_national(2018, sectors=153, fuels=True, data_dir=data_dir())


def test_china_national_totals_and_labels(china2018):
    s = china2018
    inv = readers.read_ceads_inventory(require_data("china/ceads/national_1997-2019.xlsx"), 2018)
    assert s.get_regions().tolist() == ["China"] and len(s.get_sectors()) == 153
    assert s.monetary_unit == "10^4 CNY" and "Smelting of steel" in s.get_sectors()
    co2 = s.co2
    assert co2.get_rows().tolist() == ["CO2"] and co2.unit["unit"].tolist() == ["Mt CO2"]
    total = co2.F.to_numpy().sum() + co2.F_Y.to_numpy().sum()
    assert abs(total - inv.total) <= 1e-9 * inv.total
    assert co2.F_Y.loc["CO2", ("China", "Urban household consumption")] == pytest.approx(
        inv.households["Urban"].sum(), rel=1e-12)
    by = s.co2_by_source
    assert len(by.get_rows()) == 19
    assert_close(by.F.to_numpy().sum(axis=0), co2.F.to_numpy()[0], rtol=1e-12)
    assert s.metadata["co2_year"] == 2018 and s.metadata["imports_treatment"] == "proportional"
    assert_close(s.v.to_numpy(), readers.read_nbs(require_data("china/nbs/china_2018_153.csv")).v, rtol=1e-15)


def test_china_national_footprints_close_and_match_pymrio(china2018):
    s = china2018
    colsum = np.asarray(s.A_sparse.sum(axis=0)).ravel()
    assert colsum.max() < 1  # productive: every column of A sums below 1
    s.calc_all()
    co2 = s.co2
    assert co2.D_cba.to_numpy().sum() + co2.F_Y.to_numpy().sum() == pytest.approx(
        co2.F.to_numpy().sum() + co2.F_Y.to_numpy().sum(), rel=1e-9)
    pytest.importorskip("pymrio")
    io = s.to_pymrio()
    io.calc_all()
    assert_close(co2.D_cba.to_numpy(), io.co2.D_cba.to_numpy(), rtol=1e-8, what="D_cba")
    assert_close(co2.M.to_numpy(), io.co2.M.to_numpy(), rtol=1e-8, what="M")


def test_china_national_nearest_year_42():
    require_data("china/nbs/china_2020_42.csv")
    with pytest.warns(UserWarning, match="using 2019, the nearest year"):
        s = datasets.china_national(2020, sectors=42, data_dir=data_dir())
    assert "CEADs CO2 2019, the nearest year to 2020" in s.name and s.metadata["co2_year"] == 2019
    inv = readers.read_ceads_inventory(require_data("china/ceads/national_1997-2019.xlsx"), 2019)
    total = s.co2.F.to_numpy().sum() + s.co2.F_Y.to_numpy().sum()
    assert abs(total - inv.total) <= 1e-9 * inv.total
    assert s.metadata["imports_treatment"] == "domestic"
    assert s.co2.F_Y.loc["CO2", ("China", "Final consumption")] == pytest.approx(inv.households.to_numpy().sum())


def test_china_national_user_weights_move_coking_co2():
    require_data("china/nbs/china_2018_153.csv")
    base = datasets.china_national(2018, sectors=153, data_dir=data_dir())
    codes = base.metadata["sector_codes"]
    w = pd.Series(1.0, index=codes)
    w["041"], w["042"] = 1.0, 3.0  # refining : coking = 1 : 3 of the one CEADs sector
    s = datasets.china_national(2018, sectors=153, data_dir=data_dir(), weights=w)
    F, F0 = s.co2.F.iloc[0], base.co2.F.iloc[0]
    both = F.iloc[[codes.index("041"), codes.index("042")]]
    assert both.iloc[1] == pytest.approx(3 * both.iloc[0], rel=1e-12)
    assert both.sum() == pytest.approx(F0.iloc[[codes.index("041"), codes.index("042")]].sum(), rel=1e-12)
    assert F.sum() == pytest.approx(F0.sum(), rel=1e-12) and s.metadata["concordance_weights"] == "user vector"


def test_ceads_mrio_chinese_province_names(tmp_path):
    p = tmp_path / "MRIO_zh.xlsx"
    write_ceads_mrio(p, sectors=42, provinces_names=["河南", "内蒙古"], seed=9)
    invs = readers.read_ceads_inventory(require_data("china/ceads/provinces_2017.xlsx"))
    s = readers.read_ceads_mrio(p).to_system(invs)
    F = s.co2.F.T.groupby(level=0, sort=False).sum()["CO2"] + s.co2.F_Y.T.groupby(level=0, sort=False).sum()["CO2"]
    assert F["河南"] == pytest.approx(invs["Henan"].total, rel=1e-12)
    assert F["内蒙古"] == pytest.approx(invs["InnerMongolia"].total, rel=1e-12)


def test_china_national_needs_data_dir_when_installed(monkeypatch):
    monkeypatch.delenv("MRIOTRACE_DATA", raising=False)
    if "site-packages" not in mriotrace.__file__:
        pytest.skip("running from a source tree: ../shared/data is the default there")
    with pytest.raises(mriotrace.InputError, match="pass data_dir= .* or set the environment variable MRIOTRACE_DATA"):
        datasets.china_national(2018)
    with pytest.raises(mriotrace.InputError, match=r"no NBS 153-sector table for 2019; available: \[2018, 2020\]"):
        datasets.china_national(2019, data_dir=require_data("."))


# ------------------------------------------------------------------ CEADs MRIO (generated layout)
@pytest.fixture(scope="module")
def mrio_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("mrio") / "MRIO_2017.xlsx"
    names = ["Beijing", "Henan", "Hunan", "Hainan", "Yunnan", "Tibet"]
    arrays = write_ceads_mrio(p, sectors=42, provinces_names=names, seed=3)
    return p, arrays


def test_ceads_mrio_reads_the_documented_layout(mrio_file):
    p, a = mrio_file
    t = readers.read_ceads_mrio(p)
    assert t.sheet == "Table_2017" and t.provinces == ["Beijing", "Henan", "Hunan", "Hainan", "Yunnan", "Tibet"]
    assert t.Z.shape == (252, 252) and list(t.sectors.index[:2]) == ["01", "02"]
    assert_close(t.Z.to_numpy(), a["Z"], rtol=1e-15)
    assert_close(t.x, a["x"], rtol=1e-15)
    assert_close(t.v, a["v"], rtol=1e-15)
    assert t.co2 is None and t.max_imbalance < 1e-9
    assert list(t.Y.columns.get_level_values(1)[:7]) == [
        "Rural household consumption", "Urban household consumption", "Government consumption",
        "Gross fixed capital formation", "Changes in inventories", "Exports", "Other (balancing item)"]
    # Henan's urban households buy from every province: the FU102 column of block 2
    assert_close(t.Y[("Henan", "Urban household consumption")], a["FD"][:, 5 + 1], rtol=1e-15)
    assert_close(t.Y.xs("Exports", axis=1, level=1).sum(axis=1), a["EX"], rtol=1e-15)
    s = t.to_system()
    s.calc_all()
    assert_close(s.x.to_numpy()[:, 0], a["x"], rtol=1e-12)


def test_ceads_mrio_attaches_provincial_inventories(mrio_file):
    p, _ = mrio_file
    t = readers.read_ceads_mrio(p)
    invs = readers.read_ceads_inventory(require_data("china/ceads/provinces_2017.xlsx"))
    with pytest.warns(UserWarning, match=r"no CEADs inventory for \['Tibet'\]"):
        s = t.to_system(invs)
    F = s.co2.F.T.groupby(level=0).sum()["CO2"]
    FY = s.co2.F_Y.T.groupby(level=0).sum()["CO2"]
    for prov in ("Henan", "Hunan", "Hainan", "Yunnan"):
        assert F[prov] + FY[prov] == pytest.approx(invs[prov].total, rel=1e-12), prov
        assert FY[prov] == pytest.approx(invs[prov].households.to_numpy().sum(), rel=1e-12)
    assert F["Tibet"] == 0
    s.calc_all()
    assert s.co2.D_cba.to_numpy().sum() == pytest.approx(s.co2.F.to_numpy().sum(), rel=1e-9)


def test_ceads_mrio_co2_row(tmp_path):
    p = tmp_path / "MRIO_2020.xlsx"
    a = write_ceads_mrio(p, provinces=3, sectors=42, co2_row=True, sheet="Table_2020", seed=5)
    s = readers.read_ceads_mrio(p).to_system()
    assert_close(s.co2.F.to_numpy()[0], a["co2"], rtol=1e-15)
    assert s.co2.unit["unit"].tolist() == ["Mt CO2"] and s.get_regions().tolist() == a["provinces"]


def test_ceads_mrio_bad_workbooks(tmp_path):
    p = tmp_path / "text.xlsx"
    write_ceads_mrio(p, provinces=2, sectors=42, corrupt={(16, 2 + 3): "x"})  # row 17, column F
    with pytest.raises(mriotrace.InputError, match=r'text\.xlsx, sheet "Table_2017", cell F17: text \'x\''):
        readers.read_ceads_mrio(p)
    p = tmp_path / "nogo.xlsx"
    write_ceads_mrio(p, provinces=2, sectors=42, corrupt={(3, 3 + 84 + 10 + 2): "??"})
    with pytest.raises(mriotrace.InputError, match="no total-output column"):
        readers.read_ceads_mrio(p)
    p = tmp_path / "off.xlsx"
    write_ceads_mrio(p, provinces=2, sectors=42, corrupt={(4 + 7, 3 + 84 + 10 + 2): 1e12})
    with pytest.raises(mriotrace.InputError, match=r"row 12: \('Beijing', '08'\) is off balance"):
        readers.read_ceads_mrio(p)
    with pytest.raises(mriotrace.InputError, match='no sheet "Table_2099"'):
        readers.read_ceads_mrio(p, sheet="Table_2099")
    with pytest.raises(mriotrace.InputError, match="no code row with sector code 01"):
        readers.read_ceads_mrio(p, sheet="NOTE")
