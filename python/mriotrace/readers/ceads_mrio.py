"""The CEADs China multi-regional input-output tables (31 provinces x 42 sectors).

The real workbooks are not redistributable; this reader follows the layout
documented for the 2012/2015/2017 and 2018/2020 releases (Mi et al. 2018,
Sci. Data 5:180155, table 5; Zheng et al. 2021, Sci. Data 8:244) and read by
the peers' parsers, one sheet ("Table_2017", "Table_2020", ...):

    row 1   a title
    row 2   province names at the first column of each 42-column block (merged cells)
    row 3   sector names / final-use names
    row 4   codes: sectors 01..42, final uses FU101 FU102 FU103 FU201 FU202
            under each province, then EX (exports), [IM], [ERR/OT balancing
            item], [TFU], GO (total output)
    rows 5+ column A the province (first row of its block), B the sector name,
            C the sector code; 31 x 42 = 1,302 rows; then TII, VA001..VA004,
            TVA, TI and, in some releases, a CO2 row (Mt)

The tests generate workbooks in exactly this layout (tests/python/ceads_mrio_fixture.py).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core import InputError
from ._sheet import is_excel, numbers, read_grid, sheet_names, text, where
from .ceads import HOUSEHOLDS, UNIT, key
from .nbs import MONETARY_UNIT
from .nbs import FINAL_USE_NAMES, _code

#: Chinese province names -> the English names of the CEADs inventories
PROVINCES_ZH = {
    "北京": "Beijing", "天津": "Tianjin", "河北": "Hebei", "山西": "Shanxi", "内蒙古": "InnerMongolia",
    "内蒙": "InnerMongolia", "辽宁": "Liaoning", "吉林": "Jilin", "黑龙江": "Heilongjiang", "上海": "Shanghai",
    "江苏": "Jiangsu", "浙江": "Zhejiang", "安徽": "Anhui", "福建": "Fujian", "江西": "Jiangxi", "山东": "Shandong",
    "河南": "Henan", "湖北": "Hubei", "湖南": "Hunan", "广东": "Guangdong", "广西": "Guangxi", "海南": "Hainan",
    "重庆": "Chongqing", "四川": "Sichuan", "贵州": "Guizhou", "云南": "Yunnan", "西藏": "Tibet", "陕西": "Shaanxi",
    "甘肃": "Gansu", "青海": "Qinghai", "宁夏": "Ningxia", "新疆": "Xinjiang",
}
FINAL_USE_CODES = ("FU101", "FU102", "FU103", "FU201", "FU202")
_EXPORTS, _IMPORTS, _OTHER, _OUTPUT = ("EX", "EXPORT", "EXPORTS"), ("IM", "IMPORT", "IMPORTS"), \
    ("ERR", "OT", "OTHER", "OTHERS"), ("GO", "TO", "TOTALOUTPUT", "X")


@dataclass
class CeadsMrio:
    """A CEADs provincial MRIO table (money in the table's unit, 10^4 CNY).

    provinces  the R province names as written; sectors DataFrame code -> name (S)
    Z          DataFrame (R S, R S), (region, sector code) on both axes
    Y          DataFrame (R S, R c), columns (region, category): the region's
               final uses and, as categories of the row's region, "Exports" and
               (when the table has one) "Other (balancing item)"
    x          Series (R S,) total output; v Series (R S,) total value added
    imports    Series (R S,) imported intermediate inputs (IM row), or None
    other      Series (R S,) the balancing item column ("Others"/ERR), or None
    co2        Series (R S,) CO2 row in Mt, or None (releases without it)
    max_imbalance  largest relative row / column imbalance against x
    """

    path: str
    sheet: str
    provinces: list
    sectors: pd.DataFrame
    Z: pd.DataFrame
    Y: pd.DataFrame
    x: pd.Series
    v: pd.Series
    imports: pd.Series | None
    other: pd.Series | None
    co2: pd.Series | None
    max_imbalance: float

    def to_system(self, inventories: dict | None = None, *, concordance: str = "ceads47_nbs42", name=None):
        """MRIOSystem with regions = provinces, sectors = the 42 names, monetary unit 10^4 CNY.

        CO2 (extension "co2", Mt CO2): the table's CO2 row when it has one;
        else from `inventories` (the dict of :func:`read_ceads_inventory` on a
        provinces_YYYY.xlsx), each province's 45 CEADs sectors spread over
        the 42 sectors with `concordance` by that province's output, its
        Urban / Rural households to F_Y. A province without an inventory
        (Tibet: CEADs has 30) gets no emissions, with a warning.
        """
        from ..concordance import Concordance
        from ..system import MRIOSystem

        R, S = len(self.provinces), len(self.sectors)
        cats = list(dict.fromkeys(self.Y.columns.get_level_values(1)))
        exts = {}
        if self.co2 is not None:
            exts["co2"] = dict(F=self.co2.to_numpy()[None, :], stressors=pd.Index(["CO2"], name="stressor"),
                               unit=UNIT, name="CO2 emissions (table)")
        elif inventories:
            conc = Concordance.shipped(concordance)
            by_key = {key(k): v for k, v in inventories.items()}
            F = np.zeros((1, R * S))
            FY = np.zeros((1, R * len(cats)))
            missing = []
            for r, prov in enumerate(self.provinces):
                inv = by_key.get(key(PROVINCES_ZH.get(prov, prov)))
                if inv is None:
                    missing.append(prov)
                    continue
                xr = self.x.iloc[r * S:(r + 1) * S]
                xr.index = xr.index.get_level_values(1)
                W = conc.weights("output", output=xr, sources=inv.sectors, targets=xr.index)
                F[0, r * S:(r + 1) * S] = inv.industry.to_numpy() @ W.to_numpy()
                hh = inv.households.sum(axis=0)
                for h in HOUSEHOLDS:
                    cat = f"{h} household consumption"
                    c = cats.index(cat) if cat in cats else 0
                    FY[0, r * len(cats) + c] += hh[h]
            if missing:
                warnings.warn(f"no CEADs inventory for {missing}: no emissions there", stacklevel=2)
            exts["co2"] = dict(F=F, F_Y=FY, stressors=pd.Index(["CO2"], name="stressor"), unit=UNIT,
                               name="CO2 emissions (CEADs Scope 1 inventories)")
        return MRIOSystem.from_arrays(self.provinces, list(self.sectors["name"]), cats, Z=self.Z.to_numpy(),
                                      x=self.x.to_numpy(), Y=self.Y.to_numpy(), extensions=exts,
                                      v=self.v.to_numpy(), monetary_unit=MONETARY_UNIT,
                                      name=name or f"CEADs MRIO {os.path.basename(self.path)}")


def read_ceads_mrio(path, sheet=None, *, tolerance: float = 1e-3) -> CeadsMrio:
    """Read a CEADs China MRIO workbook (layout in the module docstring).

    sheet: the sheet to read; default the first sheet whose name starts
    with "Table" (else the first sheet). tolerance: largest relative row or
    column imbalance against total output (InputError beyond it, naming the
    row). Errors name file, sheet and cell.
    """
    path = os.fspath(path)
    if sheet is None:
        names = sheet_names(path) if is_excel(path) else [None]
        sheet = next((s for s in names if s and s.lower().startswith("table")), names[0])
    g = read_grid(path, sheet)
    code_row = next((r for r in range(min(12, g.shape[0])) if g.shape[1] > 3 and _code(text(g[r, 3]), 42) == "01"),
                    None)
    if code_row is None or code_row < 2:
        raise InputError(f"{where(path, sheet)}: no code row with sector code 01 in column D (rows 1-12); not "
                         f"the CEADs MRIO layout (row 2 provinces, row 3 names, row 4 codes, data from row 5)")
    prov_row, name_row = code_row - 2, code_row - 1
    codes = [_code(text(v), 42) for v in g[code_row]]
    # intermediate columns: sector codes from column D on, provinces forward-filled from row 2
    c = 3
    col_prov, col_code = [], []
    current = None
    while c < g.shape[1] and re.fullmatch(r"\d{1,3}", codes[c] or "x"):
        p = text(g[prov_row, c])
        if p:
            current = p
        if current is None:
            raise InputError(f"{where(path, sheet, prov_row, c)}: no province name above the first sector column")
        col_prov.append(current)
        col_code.append(codes[c])
        c += 1
    provinces = list(dict.fromkeys(col_prov))
    sector_codes = list(dict.fromkeys(col_code))
    R, S = len(provinces), len(sector_codes)
    if R * S != len(col_code) or col_code != sector_codes * R:
        raise InputError(f"{where(path, sheet, code_row)}: {len(col_code)} intermediate columns are not {R} "
                         f"provinces x the same {S} sectors in the same order")
    sec_names = [text(g[name_row, 3 + j]) for j in range(S)]
    fd_cols, fd_prov, fd_cat = [], [], []
    ex_col = im_col = other_col = go_col = None
    for j in range(c, g.shape[1]):
        cd = codes[j].upper().replace(" ", "")
        p = text(g[prov_row, j])
        if p:
            current = p
        if cd in FINAL_USE_CODES:
            fd_cols.append(j)
            fd_prov.append(current)
            fd_cat.append(FINAL_USE_NAMES.get(cd, cd))
        elif cd in _EXPORTS:
            ex_col = j
        elif cd in _IMPORTS:
            im_col = j
        elif cd in _OTHER:
            other_col = j
        elif cd in _OUTPUT:
            go_col = j
    if go_col is None:
        raise InputError(f"{where(path, sheet, code_row)}: no total-output column (code GO) in row {code_row + 1}")
    unknown = sorted(set(fd_prov) - set(provinces))
    if unknown:
        raise InputError(f"{where(path, sheet, prov_row)}: final-use provinces {unknown} are not among the "
                         f"intermediate columns' provinces")
    cats = list(dict.fromkeys(fd_cat))

    # rows
    data_rows, special = [], {}
    current = None
    for r in range(code_row + 1, g.shape[0]):
        p = text(g[r, 0])
        cd = _code(text(g[r, 2]), 42)
        label = key(text(g[r, 1])) + key(cd)
        if cd in sector_codes and (p or current):
            current = p or current
            data_rows.append((current, cd, r))
        elif cd.upper() in ("TII", "TVA", "TI", "IM", "VA001", "VA002", "VA003", "VA004"):
            special[cd.upper()] = r
        elif "co2" in label or "carbon" in label:
            special["CO2"] = r
    expected = [(p, s) for p in provinces for s in sector_codes]
    got = [(p, s) for p, s, _ in data_rows]
    if got != expected:
        first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        raise InputError(f"{where(path, sheet)}: data rows are not the {R} provinces x {S} sectors of the columns "
                         f"in the same order (first difference at data row {first + 1}: "
                         f"{got[first] if first < len(got) else 'missing'} vs {expected[first] if first < len(expected) else 'none'})")
    rows = [r for _, _, r in data_rows]
    zcols = list(range(3, 3 + R * S))
    Z = numbers(g, rows, zcols, path, sheet, blank_ok=True)
    FD = numbers(g, rows, fd_cols, path, sheet, blank_ok=True)
    x = numbers(g, rows, [go_col], path, sheet)[:, 0]
    ex = numbers(g, rows, [ex_col], path, sheet, blank_ok=True)[:, 0] if ex_col is not None else np.zeros(R * S)
    im = numbers(g, rows, [im_col], path, sheet, blank_ok=True)[:, 0] if im_col is not None else None
    ot = numbers(g, rows, [other_col], path, sheet, blank_ok=True)[:, 0] if other_col is not None else None
    if "TVA" not in special:
        raise InputError(f"{where(path, sheet)}: no TVA (total value added) row")
    v = numbers(g, [special["TVA"]], zcols, path, sheet, blank_ok=True)[0]
    imp_row = numbers(g, [special["IM"]], zcols, path, sheet, blank_ok=True)[0] if "IM" in special else None
    co2 = numbers(g, [special["CO2"]], zcols, path, sheet, blank_ok=True)[0] if "CO2" in special else None

    # Y: the region's final uses; exports and the balancing item ("Others")
    # as categories of the producing region, so that rows add up to x
    extra = {"Exports": ex}
    if ot is not None:
        extra["Other (balancing item)"] = ot
    all_cats = cats + list(extra)
    Y = np.zeros((R * S, R * len(all_cats)))
    for k, j in enumerate(fd_cols):
        Y[:, provinces.index(fd_prov[k]) * len(all_cats) + cats.index(fd_cat[k])] += FD[:, k]
    for r in range(R):
        for e, vec in enumerate(extra.values()):
            Y[r * S:(r + 1) * S, r * len(all_cats) + len(cats) + e] = vec[r * S:(r + 1) * S]
    scale = np.maximum(np.abs(x), 1.0)
    row = Z.sum(axis=1) + Y.sum(axis=1) - (im if im is not None else 0)
    col = Z.sum(axis=0) + (imp_row if imp_row is not None else 0) + v
    err = np.maximum(np.abs(row - x), np.abs(col - x)) / scale
    worst = float(err.max()) if err.size else 0.0
    if worst > tolerance:
        i = int(err.argmax())
        raise InputError(f"{where(path, sheet, rows[i])}: {got[i]} is off balance by {worst:.3g} of its total output "
                         f"(tolerance {tolerance:g})")
    if im is not None:
        warnings.warn(f"{os.path.basename(path)}: an IM column (imports) is kept out of Y; the table is taken as "
                      f"domestic flows", stacklevel=2)
    idx = pd.MultiIndex.from_tuples(expected, names=["region", "sector"])
    ycols = pd.MultiIndex.from_product([provinces, all_cats], names=["region", "category"])
    ser = lambda a, nm: None if a is None else pd.Series(a, index=idx, name=nm)  # noqa: E731
    return CeadsMrio(path=path, sheet=str(sheet), provinces=provinces,
                     sectors=pd.DataFrame({"name": sec_names}, index=pd.Index(sector_codes, name="code")),
                     Z=pd.DataFrame(Z, index=idx, columns=idx), Y=pd.DataFrame(Y, index=idx, columns=ycols),
                     x=ser(x, "GO"), v=ser(v, "TVA"), imports=ser(imp_row, "imports"), other=ser(ot, "other"),
                     co2=ser(co2, "CO2"), max_imbalance=worst)
