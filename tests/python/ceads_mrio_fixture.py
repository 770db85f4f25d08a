"""Workbooks in the documented CEADs China MRIO layout, generated (the real ones are not redistributable).

Layout (mriotrace/readers/ceads_mrio.py): row 1 title; row 2 province names at
the start of each block; row 3 names; row 4 codes (01..42, FU101..FU202, EX,
ERR, GO); data from row 5 with province / sector name / code in columns A-C;
then TII, VA001..VA004, TVA, TI and optionally a CO2 row. The numbers are a
balanced random table: x = (I - A)^-1 y, Z = A diag(x), v = x - Z'1.
"""

from __future__ import annotations

import numpy as np

PROVINCES = ["Beijing", "Tianjin", "Hebei", "Shanxi", "Inner Mongolia", "Liaoning", "Jilin", "Heilongjiang",
             "Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Fujian", "Jiangxi", "Shandong", "Henan", "Hubei", "Hunan",
             "Guangdong", "Guangxi", "Hainan", "Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet", "Shaanxi",
             "Gansu", "Qinghai", "Ningxia", "Xinjiang"]
FINAL = [("FU101", "Rural household consumption"), ("FU102", "Urban household consumption"),
         ("FU103", "Government consumption"), ("FU201", "Gross fixed capital formation"),
         ("FU202", "Changes in inventories")]


def balanced_table(R: int, S: int, seed: int = 1):
    """(Z, FD (n, R*5), EX, OT, x, v, VA (4, n), co2) of a random balanced table."""
    rng = np.random.default_rng(seed)
    n = R * S
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    for r in range(R):  # domestic blocks denser
        blk = slice(r * S, (r + 1) * S)
        A[blk, blk] += rng.random((S, S))
    A *= 0.55 / A.sum(axis=0)[None, :]
    FD = rng.lognormal(3.0, 1.0, (n, R * 5)) * (rng.random((n, R * 5)) < 0.6)
    EX = rng.lognormal(3.0, 1.0, n)
    OT = rng.normal(0.0, 1.0, n)
    y = FD.sum(axis=1) + EX + OT
    x = np.linalg.solve(np.eye(n) - A, y)
    Z = A * x[None, :]
    v = x - Z.sum(axis=0)
    shares = rng.dirichlet(np.ones(4), n).T
    VA = shares * v[None, :]
    VA[3] = v - VA[:3].sum(axis=0)
    co2 = rng.lognormal(0.0, 1.0, n) * 1e-3
    return Z, FD, EX, OT, x, v, VA, co2


def write_ceads_mrio(path, provinces: int = 31, sectors: int = 42, *, seed: int = 1, co2_row: bool = False,
                     sheet: str = "Table_2017", corrupt: dict | None = None, provinces_names=None):
    """Write a workbook; returns the arrays. corrupt: {(row, col): value} cells overwritten (0-based)."""
    import xlsxwriter

    names = list(provinces_names or PROVINCES[:provinces])
    R, S = len(names), sectors
    Z, FD, EX, OT, x, v, VA, co2 = balanced_table(R, S, seed)
    n = R * S
    codes = [f"{s + 1:02d}" for s in range(S)]
    secnames = [f"Sector {c}" for c in codes]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("NOTE")
    ws.write_string(0, 0, "Generated in the CEADs MRIO layout for mriotrace's tests")
    ws = wb.add_worksheet(sheet)
    corrupt = dict(corrupt or {})

    def put_row(r, cells):
        for c, val in enumerate(cells):
            val = corrupt.pop((r, c), val)
            if val is None or val == "":
                continue
            if isinstance(val, str):
                ws.write_string(r, c, val)
            else:
                ws.write_number(r, c, float(val))

    ncol = 3 + n + R * 5 + 3
    row1 = [None] * ncol
    row2 = ["Province", "Sector", "Code"] + [None] * (ncol - 3)
    row3 = ["", "", ""] + [None] * (ncol - 3)
    for r in range(R):
        row1[3 + r * S] = names[r]
        row1[3 + n + r * 5] = names[r]
        for s in range(S):
            row2[3 + r * S + s] = secnames[s]
            row3[3 + r * S + s] = codes[s]
        for f, (code, label) in enumerate(FINAL):
            row2[3 + n + r * 5 + f] = label
            row3[3 + n + r * 5 + f] = code
    tail = 3 + n + R * 5
    for k, (code, label) in enumerate([("EX", "Exports"), ("ERR", "Others"), ("GO", "Total output")]):
        row2[tail + k] = label
        row3[tail + k] = code
    put_row(0, ["China multi-regional input-output table (unit: 10^4 CNY)"])
    put_row(1, row1)
    put_row(2, row2)
    put_row(3, row3)
    for i in range(n):
        r, s = divmod(i, S)
        put_row(4 + i, [names[r] if s == 0 else "", secnames[s], codes[s], *Z[i], *FD[i], EX[i], OT[i], x[i]])
    r0 = 4 + n
    put_row(r0, ["", "Total intermediate input", "TII", *Z.sum(axis=0)])
    for k in range(4):
        put_row(r0 + 1 + k, ["", f"Value added {k + 1}", f"VA00{k + 1}", *VA[k]])
    put_row(r0 + 5, ["", "Total value added", "TVA", *v])
    put_row(r0 + 6, ["", "Total input", "TI", *x])
    if co2_row:
        put_row(r0 + 7, ["", "CO2 emissions (Mt)", "CO2", *co2])
    wb.close()
    return dict(Z=Z, FD=FD, EX=EX, OT=OT, x=x, v=v, co2=co2, provinces=names, codes=codes)
