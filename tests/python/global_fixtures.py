"""GLORIA, Eora26, OECD ICIO and FIGARO tables in the published layouts, generated.

The real files are not on these machines: each writer below produces a small
table in exactly the layout the publisher distributes (file names, headers,
label order, separators, quoting, zip packaging), as documented by the
publishers and as pymrio 0.7's parsers read it (docs/global-databases.md has a
section per database). Values are rounded to 8 significant digits and printed
with repr(), so every parser reads the same doubles, and every table is
productive by construction (x >= 2 x column sums of the intermediate block).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from exiobase_fixture import _round8

# ---------------------------------------------------------------- shared


def _num(v: float) -> str:
    return "0" if v == 0 else repr(float(v))


def _flows(n: int, m: int, seed, density: float = 0.7, scale: float = 1.0) -> np.ndarray:
    g = np.random.default_rng(seed)
    return _round8(g.lognormal(0.0, 1.2, (n, m)) * (g.random((n, m)) < density) * scale)


def _final_demand_for(Z: np.ndarray, cols: int, seed) -> np.ndarray:
    """Y (n x cols) whose row sums make x = Z1 + Y1 >= 2 x (column sums of Z)."""
    g = np.random.default_rng(seed)
    Y = _round8(g.random((Z.shape[0], cols)) + 0.05)
    need = np.maximum(2.0 * Z.sum(axis=0) - Z.sum(axis=1), 1.0)
    return _round8(Y * (need / Y.sum(axis=1))[:, None] * 1.02)


def rewrite_zip(src: Path, dst: Path, pick, edit) -> Path:
    """Copy a zip, passing the text of the members for which pick(name) is true through edit
    (edit returning None leaves the member out): the bad-file tests' damaged releases."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if pick(info.filename):
                text = edit(data.decode())
                if text is None:
                    continue
                data = text.encode()
            zout.writestr(info.filename, data)
    return dst


def _write_csv_text(rows, quote_labels: bool) -> str:
    """Comma-separated text; label cells quoted (as R's write.csv and Excel do) when quote_labels."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        if quote_labels:
            buf.write(",".join(f'"{c}"' if isinstance(c, str) and not _is_number(c) else str(c) for c in row) + "\r\n")
        else:
            w.writerow(row)
    return buf.getvalue()


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- OECD ICIO 2023

ICIO_INDUSTRIES = ["A01_02", "A03", "B05_06", "B07_08", "B09", "C10T12", "C13T15", "C16", "C17_18", "C19", "C20",
                   "C21", "C22", "C23", "C24", "C25", "C26", "C27", "C28", "C29", "C30", "C31T33", "D", "E", "F",
                   "G", "H49", "H50", "H51", "H52", "H53", "I", "J58T60", "J61", "J62_63", "K", "L", "M", "N", "O",
                   "P", "Q", "R", "S", "T"]
ICIO_FD = ["HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"]
ICIO_REGIONS = ["ARG", "AUS", "CHN", "MEX", "USA", "ROW"]
ICIO_SPLITS = ["MX1", "MX2", "CN1", "CN2"]  # after ROW, as in the extended tables


def oecd_icio_table(regions=ICIO_REGIONS, industries=6, splits=ICIO_SPLITS, seed=11):
    """(rows, as list of lists) of one ICIO 2023 'extended' csv: header, region x industry rows, TLS, VA, OUT.

    CHN and MEX rows and columns of the intermediate block and CHN/MEX rows of Y are zero: in the
    extended tables their flows are in CN1, CN2, MX1, MX2, which have no final-demand columns.
    """
    sectors = ICIO_INDUSTRIES[:industries] if isinstance(industries, int) else list(industries)
    blocks = list(regions) + list(splits)
    labels = [f"{r}_{s}" for r in blocks for s in sectors]
    n, N = len(labels), len(sectors)
    Z = _flows(n, n, [seed, 0])
    zero = [i for i, lab in enumerate(labels) if lab.split("_")[0] in ("CHN", "MEX") and splits]
    Z[zero, :] = 0
    Z[:, zero] = 0
    fd_labels = [f"{r}_{f}" for r in regions for f in ICIO_FD]
    Y = _final_demand_for(Z, len(fd_labels), [seed, 1])
    Y[zero, :] = 0
    x = Z.sum(axis=1) + Y.sum(axis=1)
    g = np.random.default_rng([seed, 2])
    TLS_z = _round8(Z.sum(axis=0) * 0.02 * g.random(n))
    TLS_y = _round8(Y.sum(axis=0) * 0.05 * g.random(len(fd_labels)))
    VA = _round8(np.maximum(x - Z.sum(axis=0) - TLS_z, 0.0))
    header = ["V1"] + labels + fd_labels + ["OUT"]
    rows = [header]
    for i in range(n):
        rows.append([labels[i]] + [_num(v) for v in Z[i]] + [_num(v) for v in Y[i]] + [_num(_round8(x[i:i + 1])[0])])
    rows.append(["TLS"] + [_num(v) for v in TLS_z] + [_num(v) for v in TLS_y] + ["0"])
    rows.append(["VA"] + [_num(v) for v in VA] + ["0"] * len(fd_labels) + ["0"])
    out_z = _round8(Z.sum(axis=0) + TLS_z + VA)
    rows.append(["OUT"] + [_num(v) for v in out_z] + [_num(v) for v in _round8(Y.sum(axis=0) + TLS_y)] + ["0"])
    return rows


def write_oecd_icio(target, *, years=(2016, 2017), packaging="zip", regions=ICIO_REGIONS, industries=6,
                    splits=ICIO_SPLITS, seed=11) -> Path:
    """The 2023 release: ICIO-2016-2020-extended.zip holding <year>.csv (packaging="zip"), a zip of
    <year>.zip each holding <year>.csv ("nested", the packaging after the 2024 updates), or the csv
    files ICIO2023_<year>.csv in `target` ("csv", what pymrio's downloader leaves). Returns the zip or,
    for "csv", the first csv."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    texts = {y: _write_csv_text(oecd_icio_table(regions, industries, splits, seed + i), quote_labels=True)
             for i, y in enumerate(years)}
    if packaging == "csv":
        for y, t in texts.items():
            (target / f"ICIO2023_{y}.csv").write_text(t, newline="")
        return target / f"ICIO2023_{years[0]}.csv"
    path = target / "ICIO-2016-2020-extended.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for y, t in texts.items():
            if packaging == "nested":
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zi:
                    zi.writestr(f"{y}.csv", t)
                zf.writestr(f"{y}.zip", inner.getvalue())
            else:
                zf.writestr(f"{y}.csv", t)
    return path


# ---------------------------------------------------------------- GLORIA

GLORIA_FD = ["Household final consumption P.3h", "Non-profit institutions serving households P.3n",
             "Government final consumption P.3g", "Gross fixed capital formation P.51g",
             "Changes in inventories P.52", "Acquisitions less disposals of valuables P.53"]
GLORIA_VA = ["Compensation of employees D.1", "Taxes on production D.29", "Subsidies on production D.39",
             "Net operating surplus B.2n", "Net mixed income B.3n", "Consumption of fixed capital K.1"]
GLORIA_REGIONS = [("AFG", "Afghanistan"), ("ALB", "Albania"), ("DYE", "Yemen Democratic"), ("USA", "USA")]
GLORIA_SECTORS = ["Wheat", "Rice", "Electric power generation, transmission and distribution"]
GLORIA_SATELLITES = [("Emissions (EDGAR)", "'co2_excl_short_cycle_org_c_total_EDGAR_consistent'", "kilotonnes"),
                     ("Emissions (EDGAR)", "'ch4_total_EDGAR_consistent'", "kilotonnes"),
                     ("Land use", "Cropland/pasture", "1000 ha"),
                     ("Employment", "Employment, total", "1000 persons")]
GLORIA_PREFIX = "20230314_120secMother_AllCountries_002_"


def gloria_tables(regions=GLORIA_REGIONS, sectors=GLORIA_SECTORS, satellites=GLORIA_SATELLITES, empty=("DYE",),
                  seed=21, scale=1.0):
    """The GLORIA arrays (T, Y, V, TQ, YQ) of one year: regions in `empty` have no data (all zeros)."""
    R, N, c, nva, k = len(regions), len(sectors), len(GLORIA_FD), len(GLORIA_VA), len(satellites)
    n, W = R * N, 2 * R * N
    live = np.array([r[0] not in empty for r in regions for _ in range(N)])
    U = _flows(n, n, [seed, 0], scale=scale) * np.outer(live, live)
    Y = _final_demand_for(U, R * c, [seed, 1])
    live_y = np.repeat([r[0] not in empty for r in regions], c)
    Y = Y * np.outer(live, live_y)
    q = U.sum(axis=1) + Y.sum(axis=1)
    T = np.zeros((W, W))
    ind = np.array([r * 2 * N + i for r in range(R) for i in range(N)])  # industry rows / columns of T
    prod = ind + N
    T[np.ix_(prod, ind)] = U
    T[ind, prod] = q  # each industry makes its own product only: diagonal supply
    Yt = np.zeros((W, R * c))
    Yt[prod, :] = Y
    g = np.random.default_rng([seed, 2])
    Vt = np.zeros((R * nva, W))
    for r in range(R):
        block = _round8(g.random((nva, N)) * (q[r * N:(r + 1) * N] * 0.1))
        Vt[r * nva:(r + 1) * nva, ind[r * N:(r + 1) * N]] = block * live[r * N]
    TQ = np.zeros((k, W))
    TQ[:, ind] = _round8(g.lognormal(2.0, 1.5, (k, n)) * (g.random((k, n)) < 0.8)) * live
    YQ = _round8(g.lognormal(1.0, 1.5, (k, R * c)) * (g.random((k, R * c)) < 0.4)) * live_y
    return {"T": T, "Y": Yt, "V": Vt, "TQ": TQ, "YQ": YQ}


def _numbers_csv(a: np.ndarray) -> str:
    return "".join(",".join(_num(v) for v in row) + "\n" for row in a)


def write_gloria(target, *, year=2022, version=59, as_zip=True, regions=GLORIA_REGIONS, sectors=GLORIA_SECTORS,
                 satellites=GLORIA_SATELLITES, empty=("DYE",), with_pp=True, seed=21) -> Path:
    """The GLORIA release of one year in `target` (pymrio's download folder): GLORIA_MRIOs_<v>_<y>.zip
    (T, Y, V-Results), GLORIA_SatelliteAccounts_0<v>_<y>.zip (TQ, YQ), GLORIA_ReadMe_0<v>.xlsx
    (sheets Regions, Sectors, "Value added and final demand", Satellites). as_zip=False: the unpacked
    folders. with_pp: also T and Y at purchasers' prices (Markup005), with other numbers. Returns target."""
    import xlsxwriter

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    t = gloria_tables(regions, sectors, satellites, empty, seed)
    files = {"MRIOs": {}, "Sat": {}}
    for kind in ("T", "Y"):
        files["MRIOs"][f"{GLORIA_PREFIX}{kind}-Results_{year}_0{version}_Markup001(full).csv"] = _numbers_csv(t[kind])
    files["MRIOs"][f"{GLORIA_PREFIX}V-Results_{year}_0{version}_Markup001(full).csv"] = _numbers_csv(t["V"])
    if with_pp:
        pp = gloria_tables(regions, sectors, satellites, empty, seed + 100, scale=1.3)
        for kind in ("T", "Y"):
            files["MRIOs"][f"{GLORIA_PREFIX}{kind}-Results_{year}_0{version}_Markup005(full).csv"] = _numbers_csv(pp[kind])
    for kind in ("TQ", "YQ"):
        files["Sat"][f"{GLORIA_PREFIX}{kind}-Results_{year}_0{version}_Markup001(full).csv"] = _numbers_csv(t[kind])
    for key, name in (("MRIOs", f"GLORIA_MRIOs_{version}_{year}"), ("Sat", f"GLORIA_SatelliteAccounts_0{version}_{year}")):
        if as_zip:
            with zipfile.ZipFile(target / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for fn, text in files[key].items():
                    zf.writestr(fn, text)
        else:
            (target / name).mkdir(exist_ok=True)
            for fn, text in files[key].items():
                (target / name / fn).write_text(text)
    wb = xlsxwriter.Workbook(str(target / f"GLORIA_ReadMe_0{version}.xlsx"))
    sheets = {
        "Read_me": (["Content"], [["Generated GLORIA layout fixture (mriotrace tests)"]]),
        "Regions": (["Lfd_Nr", "Region_acronyms", "Region_names"], [[i + 1, a, b] for i, (a, b) in enumerate(regions)]),
        "Sectors": (["Lfd_Nr", "Sector_names"], [[i + 1, s] for i, s in enumerate(sectors)]),
        "Value added and final demand": (["Lfd_Nr", "Value_added_names", "Final_demand_names"],
                                         [[i + 1, v, f] for i, (v, f) in enumerate(zip(GLORIA_VA, GLORIA_FD))]),
        "Satellites": (["Lfd_Nr", "Sat_head_indicator", "Sat_indicator", "Sat_unit"],
                       [[i + 1, h, s, u] for i, (h, s, u) in enumerate(satellites)]),
    }
    for name, (head, rows) in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, head)
        for i, row in enumerate(rows):
            ws.write_row(i + 1, 0, row)
    wb.close()
    return target


# ---------------------------------------------------------------- Eora26

EORA_COUNTRIES = [("Afghanistan", "AFG"), ("Albania", "ALB"), ("Cote dIvoire", "CIV"), ("United States", "USA")]
EORA_SECTORS = ["Agriculture", "Fishing", "Mining and Quarrying", "Electricity, Gas and Water"]
EORA_FD = ["Household final consumption P.3h", "Non-profit institutions serving households P.3n",
           "Government final consumption P.3g", "Gross fixed capital formation P.51",
           "Changes in inventories P.52", "Acquisitions less disposals of valuables P.53"]
EORA_VA = [("Primary input", "Compensation of employees D.1"), ("Primary input", "Taxes on production D.29"),
           ("Primary input", "Subsidies on production D.39"), ("Primary input", "Net operating surplus B.2n"),
           ("Primary input", "Net mixed income B.3n"), ("Primary input", "Consumption of fixed capital K.1")]
EORA_Q = [("Total CO2 emissions from EDGAR (Gg)", "Total"), ("CH4 emissions from EDGAR (Gg)", "Total"),
          ("Energy Usage (TJ)", "Natural Gas"), ("Energy Usage (TJ)", "Coal"),
          ("Water Footprint/Blue (Mm3)", "Total")]


def eora26_tables(countries=EORA_COUNTRIES, sectors=EORA_SECTORS, seed=31):
    """Labels and arrays of one Eora26 year: the countries x sectors, then ROW with one row "TOTAL"."""
    N, c = len(sectors), len(EORA_FD)
    lab_T = [(name, code, "Industries", s) for name, code in countries for s in sectors]
    lab_T.append(("Rest of the World", "ROW", "Industries", "TOTAL"))
    lab_FD = [(name, code, "Final Demand", f) for name, code in list(countries) + [("Rest of the World", "ROW")]
              for f in EORA_FD]
    n = len(lab_T)
    T = _flows(n, n, [seed, 0], density=0.8)
    FD = _final_demand_for(T, len(lab_FD), [seed, 1])
    g = np.random.default_rng([seed, 2])
    VA = _round8(g.random((len(EORA_VA), n)) * (T.sum(axis=0) + 1.0) * 0.3)
    Q = _round8(g.lognormal(2.0, 1.5, (len(EORA_Q), n)) * (g.random((len(EORA_Q), n)) < 0.85))
    QY = _round8(g.lognormal(1.0, 1.5, (len(EORA_Q), len(lab_FD))) * (g.random((len(EORA_Q), len(lab_FD))) < 0.3))
    return {"labels_T": lab_T, "labels_FD": lab_FD, "labels_Q": EORA_Q, "labels_VA": EORA_VA,
            "T": T, "FD": FD, "VA": VA, "Q": Q, "QY": QY}


def _tsv(rows) -> str:
    return "".join("\t".join(r) + "\n" for r in rows)


def _numbers_tsv(a: np.ndarray) -> str:
    return "".join("\t".join(_num(v) for v in row) + "\n" for row in a)


def write_eora26(target, *, year=2015, price="bp", labels="indices", as_zip=True, seed=31) -> Path:
    """Eora26_<year>_<price>.zip (labels="indices": the label files in indices.zip beside it, as the
    worldmrio.com downloads now come; labels="inside": in the zip) or the unpacked folder
    Eora26_<year>_<price>/ (as_zip=False, labels inside it). Tab-separated, no header rows.
    Returns the zip (or the folder)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    t = eora26_tables(seed=seed)
    stem = f"Eora26_{year}_{price}_"
    data = {f"{stem}{k}.txt": _numbers_tsv(t[k]) for k in ("T", "FD", "VA", "Q", "QY")}
    lab = {f"{k}.txt": _tsv(t[k]) for k in ("labels_T", "labels_FD", "labels_Q", "labels_VA")}
    if not as_zip:
        folder = target / f"Eora26_{year}_{price}"
        folder.mkdir(exist_ok=True)
        for name, text in {**data, **lab}.items():
            (folder / name).write_text(text)
        return folder
    path = target / f"Eora26_{year}_{price}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in {**data, **(lab if labels == "inside" else {})}.items():
            zf.writestr(name, text)
    if labels == "indices":
        with zipfile.ZipFile(target / "indices.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in lab.items():
                zf.writestr(name, text)
    return path


# ---------------------------------------------------------------- FIGARO

FIGARO_REGIONS = ["AR", "AT", "FI", "FIGW1", "US"]  # ISO 2-letter codes; FIGW1 (rest of the world) after FI
FIGARO_INDUSTRIES = ["A01", "A02", "B", "C10T12", "D35", "F"]
FIGARO_FD = ["P3_S13", "P3_S14", "P3_S15", "P51G", "P5M"]
FIGARO_VA = ["W2_D21X31", "W2_OP_RES", "W2_OP_NRES", "W2_D1", "W2_D29X39", "W2_B2A3G"]


def figaro_rows(kind="ixi", regions=FIGARO_REGIONS, industries=FIGARO_INDUSTRIES, seed=41):
    """The rows (header first) of one FIGARO matrix csv."""
    codes = list(industries) if kind == "ixi" else [f"CPA_{c}" for c in industries]
    labels = [f"{r}_{c}" for r in regions for c in codes]
    fd = [f"{r}_{f}" for r in regions for f in FIGARO_FD]
    n = len(labels)
    Z = _flows(n, n, [seed, 0 if kind == "ixi" else 5], density=0.75)
    Y = _final_demand_for(Z, len(fd), [seed, 1])
    g = np.random.default_rng([seed, 2])
    x = Z.sum(axis=1) + Y.sum(axis=1)
    VA_z = _round8(g.random((len(FIGARO_VA), n)) * np.maximum(x - Z.sum(axis=0), 0) / len(FIGARO_VA))
    VA_y = np.zeros((len(FIGARO_VA), len(fd)))
    VA_y[:3, :] = _round8(g.random((3, len(fd))) * 2.0 - 0.5)  # taxes on products and purchases abroad (may be < 0)
    rows = [["rowLabels"] + labels + fd]
    for i in range(n):
        rows.append([labels[i]] + [_num(v) for v in Z[i]] + [_num(v) for v in Y[i]])
    for k, lab in enumerate(FIGARO_VA):
        rows.append([lab] + [_num(v) for v in VA_z[k]] + [_num(v) for v in VA_y[k]])
    return rows


def write_figaro(target, *, years=(2021,), edition="23ed", kinds=("ixi", "pxp"), as_zip=False, quote_labels=False,
                 seed=41) -> Path:
    """matrix_eu-ic-io_<ind-by-ind|prod-by-prod>_<edition>_<year>.csv files in `target` (as Eurostat serves
    them; as_zip: in one zip, FIGARO.zip). Returns the first csv (or the zip)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    files = {}
    for i, year in enumerate(years):
        for kind in kinds:
            word = "ind-by-ind" if kind == "ixi" else "prod-by-prod"
            files[f"matrix_eu-ic-io_{word}_{edition}_{year}.csv"] = _write_csv_text(
                figaro_rows(kind, seed=seed + 10 * i), quote_labels=quote_labels)
    if as_zip:
        path = target / "FIGARO.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in files.items():
                zf.writestr(name, text)
        return path
    for name, text in files.items():
        (target / name).write_bytes(text.encode())
    return target / next(iter(files))
