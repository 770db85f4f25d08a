"""Small WIOD 2016 workbooks in the published layout (the real files are not on this machine).

``write_wiot`` writes a world input-output table as WIOT<year>_Nov16_ROW.xlsx
lays it out (docs/global-databases.md): sheet named by the year; column A of
rows 1 and 4 the title and "(millions of US$)"; header rows 3 (codes), 4
(descriptions), 5 (countries), 6 (column codes c1 ..); data from row 7 with
the row labels in columns A-D (code, description, country, row code) and the
values from column E: the R*N sector columns, the R*5 final-demand columns
(CONS_h CONS_np CONS_g GFCF INVEN per country), TOT; after the sector rows
II_fob, TXSP, EXP_adj, PURR, PURNR, VA, IntTTM, GO. ``write_env`` writes an
environmental account workbook (JRC): a sheet per country, row 1 the years,
column A the sector codes, a households row FC_HH.

Numbers are random but consistent: TOT = Z1 + Y1 = GO = Z'1 + TXSP + ... +
IntTTM, II_fob = Z'1.
"""

from __future__ import annotations

import numpy as np

#: WIOD 2016's 56 sectors (ISIC rev. 4 codes), the first ones with their descriptions
SECTORS = [
    ("A01", "Crop and animal production, hunting and related service activities"),
    ("A02", "Forestry and logging"),
    ("A03", "Fishing and aquaculture"),
    ("B", "Mining and quarrying"),
    ("C10-C12", "Manufacture of food products, beverages and tobacco products"),
    ("C19", "Manufacture of coke and refined petroleum products"),
    ("D35", "Electricity, gas, steam and air conditioning supply"),
    ("H49", "Land transport and transport via pipelines"),
]
REGIONS = ["AUS", "CHN", "DEU", "ROW"]
CATEGORIES = [
    ("CONS_h", "Final consumption expenditure by households"),
    ("CONS_np", "Final consumption expenditure by non-profit organisations serving households (NPISH)"),
    ("CONS_g", "Final consumption expenditure by government"),
    ("GFCF", "Gross fixed capital formation"),
    ("INVEN", "Changes in inventories and valuables"),
]
FACTORS = [
    ("TXSP", "taxes less subsidies on products"),
    ("EXP_adj", "Cif/ fob adjustments on exports"),
    ("PURR", "Direct purchases abroad by residents"),
    ("PURNR", "Purchases on the domestic territory by non-residents"),
    ("VA", "Value added at basic prices"),
    ("IntTTM", "International Transport Margins"),
]


def make_table(regions=REGIONS, sectors=SECTORS, seed: int = 7) -> dict:
    """Consistent random arrays: Z (n x n), Y (n x R*5), x, factor rows (6 x n, 6 x R*5)."""
    rng = np.random.default_rng(seed)
    R, N, c = len(regions), len(sectors), len(CATEGORIES)
    n = R * N
    Z = rng.uniform(0, 40, (n, n)) * (rng.random((n, n)) < 0.7)
    Z[rng.random((n, n)) < 0.05] = 0.0
    Y = rng.uniform(50, 400, (n, R * c))
    Y[:, 4::c] = rng.uniform(-20, 20, (n, R))  # changes in inventories: either sign
    x = Z.sum(1) + Y.sum(1)
    F = np.zeros((len(FACTORS), n))
    F[0] = rng.uniform(0, 5, n)        # TXSP
    F[1] = rng.uniform(-1, 1, n)       # EXP_adj
    F[2] = rng.uniform(0, 2, n)        # PURR
    F[3] = -rng.uniform(0, 2, n)       # PURNR
    F[5] = rng.uniform(0, 1, n)        # IntTTM
    F[4] = x - Z.sum(0) - F.sum(0)     # VA closes the column
    F_Y = np.zeros((len(FACTORS), R * c))
    F_Y[0] = rng.uniform(0, 30, R * c)  # taxes on final demand
    F_Y[2] = rng.uniform(0, 5, R * c)
    return dict(regions=list(regions), sectors=list(sectors), Z=Z, Y=Y, x=x, F=F, F_Y=F_Y)


def write_wiot(path, table: dict | None = None, *, year: int = 2014, sheet: str | None = None,
               cell_override: dict | None = None, shift: int = 0) -> dict:
    """Write `table` (default :func:`make_table`) as a WIOT workbook; returns the table.

    cell_override: {(row, col): value} (1-based sheet row, 0-based column)
    written instead of what the layout puts there (for the bad-file tests).
    shift: write everything that many rows lower (a layout the reader finds by content).
    """
    import xlsxwriter

    t = table or make_table()
    regions, sectors = t["regions"], t["sectors"]
    R, N, c = len(regions), len(sectors), len(CATEGORIES)
    n = R * N
    cells: dict = {}

    def put(row, col, value):
        cells[(row, col)] = value

    put(1, 0, f"World Input-Output Table {year}")
    put(4, 0, "(millions of US$)")
    col = 4
    for r in regions:
        for k, (code, name) in enumerate(sectors):
            put(3, col, code), put(4, col, name), put(5, col, r), put(6, col, f"c{k + 1}")
            col += 1
    for r in regions:
        for k, (code, name) in enumerate(CATEGORIES):
            put(3, col, code), put(4, col, name), put(5, col, r), put(6, col, f"c{57 + k}")
            col += 1
    tot_col = col
    put(3, tot_col, "TOT"), put(4, tot_col, "Total output"), put(5, tot_col, "TOT"), put(6, tot_col, "c62")
    row = 7
    for i in range(n):
        code, name = sectors[i % N]
        put(row, 0, code), put(row, 1, name), put(row, 2, regions[i // N]), put(row, 3, f"c{i % N + 1}")
        for j in range(n):
            put(row, 4 + j, float(t["Z"][i, j]))
        for j in range(R * c):
            put(row, 4 + n + j, float(t["Y"][i, j]))
        put(row, tot_col, float(t["x"][i]))
        row += 1
    bottom = [("II_fob", "Total intermediate consumption", t["Z"].sum(0), np.zeros(R * c))]
    bottom += [(code, name, t["F"][k], t["F_Y"][k]) for k, (code, name) in enumerate(FACTORS)]
    bottom += [("GO", "Output at basic prices", t["x"], None)]
    for k, (code, name, cols, fd) in enumerate(bottom):
        put(row, 0, code), put(row, 1, name), put(row, 2, "TOT"), put(row, 3, f"r{64 + k}")
        for j in range(n):
            put(row, 4 + j, float(cols[j]))
        if fd is not None:
            for j in range(R * c):
                put(row, 4 + n + j, float(fd[j]))
        row += 1
    cells.update(cell_override or {})

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet or str(year))
    for (r, cc), v in cells.items():
        if v is None:
            continue
        if isinstance(v, str):
            ws.write_string(r - 1 + shift, cc, v)
        else:
            ws.write_number(r - 1 + shift, cc, v)
    wb.close()
    return t


def make_env(regions=REGIONS, sectors=SECTORS, years=range(2000, 2017), seed: int = 11) -> dict:
    """{(region, year): (N sector values, households value)}."""
    rng = np.random.default_rng(seed)
    return {(r, y): (rng.uniform(0, 100, len(sectors)), float(rng.uniform(10, 50)))
            for r in regions for y in years}


def write_env(path, values: dict, regions=REGIONS, sectors=SECTORS, years=range(2000, 2017), *,
              households: str = "FC_HH", skip_sheet: str | None = None) -> None:
    """An account workbook: a sheet per country, row 1 years (from column B), column A sector codes."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for r in regions:
        if r == skip_sheet:
            continue
        ws = wb.add_worksheet(r)
        ws.write_string(0, 0, "Sector")
        for j, y in enumerate(years):
            ws.write_number(0, 1 + j, y)
        for i, (code, _) in enumerate(sectors):
            ws.write_string(1 + i, 0, code)
            for j, y in enumerate(years):
                ws.write_number(1 + i, 1 + j, float(values[(r, y)][0][i]))
        ws.write_string(1 + len(sectors), 0, households)
        for j, y in enumerate(years):
            ws.write_number(1 + len(sectors), 1 + j, values[(r, y)][1])
        ws.write_string(2 + len(sectors), 0, "Total")
        for j, y in enumerate(years):
            ws.write_number(2 + len(sectors), 1 + j, float(values[(r, y)][0].sum() + values[(r, y)][1]))
    wb.close()
