"""EXIOBASE 3 tables in the published layout, generated (the real files are not on these machines).

The layout is that of the published IOT_<year>_<ixi|pxp>.zip (written by
pandas' to_csv with sep="\\t", as the release pipeline does):

    IOT_2011_ixi/Z.txt, A.txt, Y.txt   2 header rows (region, sector | category),
                                       an index-names row, 2 index columns
    IOT_2011_ixi/x.txt                 region, sector, indout
    IOT_2011_ixi/unit.txt              region, sector, unit (M.EUR)
    IOT_2011_ixi/file_parameters.json  nr_index_col / nr_header per file (pymrio's load_all reads it)
    IOT_2011_ixi/metadata.json         name, version, history (pymrio's MRIOMetaData)
    IOT_2011_ixi/<satellite|impacts>/F.txt, F_Y.txt, S.txt, S_Y.txt   2 header rows,
                                       an index-names row, 1 index column
    IOT_2011_ixi/<satellite|impacts>/unit.txt, file_parameters.json

Rows are written one at a time (streamed into the zip), so the same writer
makes the 3 x 4 test fixture and the 49 x 200 benchmark table. Values are
rounded to 8 significant digits (as in the release), so every parser reads
exactly the same doubles.

The system is productive by construction: Y's row sums are chosen so that
x_j >= 2 * (column sum j of Z), i.e. every column of A sums to at most 1/2.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

REGIONS_49 = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB", "US", "JP", "CN", "CA", "KR", "BR", "IN", "MX",
    "RU", "AU", "CH", "TR", "TW", "NO", "ID", "ZA", "WA", "WL", "WE", "WF", "WM",
]
CATEGORIES_7 = [
    "Final consumption expenditure by households",
    "Final consumption expenditure by non-profit organisations serving households (NPISH)",
    "Final consumption expenditure by government",
    "Gross fixed capital formation",
    "Changes in inventories",
    "Changes in valuables",
    "Exports: Total (fob)",
]


def _round8(a: np.ndarray) -> np.ndarray:
    """Round to 8 significant digits (what the release prints), as the double nearest that decimal.

    k / 10^m (or k * 10^-m) with 10^m exact is one correctly rounded operation,
    hence the double nearest to k * 10^-m, which repr() prints as that decimal.
    """
    a = np.asarray(a, dtype=float)
    out = np.zeros_like(a)
    nz = a != 0
    m = 7 - np.floor(np.log10(np.abs(a[nz]))).astype(int)
    assert m.max(initial=0) <= 22 and m.min(initial=0) >= -22, "values outside the exactly representable range"
    k = np.round(a[nz] * 10.0 ** m.astype(float))
    out[nz] = np.where(m >= 0, k / 10.0 ** np.maximum(m, 0), k * 10.0 ** np.maximum(-m, 0))
    return out


def _cells(values: np.ndarray) -> str:
    # repr() of an already rounded double is its shortest exact form; zeros as pandas writes them.
    out = np.full(values.shape[0], "0.0", dtype=object)
    nz = np.flatnonzero(values)
    out[nz] = [repr(float(v)) for v in values[nz]]
    return "\t".join(out)


class _Writer:
    """Files into a zip (streamed) or a folder, under the table's root folder."""

    def __init__(self, target: Path, root: str, as_zip: bool):
        self.root, self.as_zip = root, as_zip
        if as_zip:
            self.zf = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        else:
            self.base = target / root
            self.base.mkdir(parents=True, exist_ok=True)

    def open(self, rel: str):
        if self.as_zip:
            return io.TextIOWrapper(self.zf.open(f"{self.root}/{rel}", "w", force_zip64=True), encoding="utf-8",
                                    newline="")
        path = self.base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "w", encoding="utf-8", newline="")

    def close(self):
        if self.as_zip:
            self.zf.close()


def _header(f, col_levels: list[tuple[str, list[str]]], index_names: list[str]):
    """pandas' multi-row header: level name, blanks for the other index columns, labels; then the index names."""
    pad = "\t" * (len(index_names) - 1)
    for name, labels in col_levels:
        f.write(name + "\t" + pad + "\t".join(labels) + "\n")
    ncols = len(col_levels[0][1])
    f.write("\t".join(index_names) + "\t" * ncols + "\n")


def write_exiobase3(target, *, regions=("AT", "BE", "CN"), sectors=4, categories=2, stressors=6, impacts=3,
                    kind="ixi", year=2011, as_zip=True, density=0.6, seed=7, with_A=True, with_S=True,
                    legacy_F_hh=False, impacts_from_satellite=False) -> Path:
    """Write an EXIOBASE 3 table; returns the zip file or the folder holding IOT_<year>_<kind>/.

    sectors/categories: a count (names generated) or a list of names.
    stressors/impacts: counts of satellite and impact rows (0: no such folder).
    with_A / with_S: also write A.txt and S.txt, S_Y.txt (the release has them; the readers need Z, F, F_Y).
    legacy_F_hh: name the final-demand stressors F_hh.txt (releases before 3.7).
    impacts_from_satellite: impacts/ = characterisation_factors(...) x satellite (F and F_Y), as
        EXIOBASE computes them, instead of independent numbers.
    """
    target = Path(target)
    root = f"IOT_{year}_{kind}"
    regions = list(regions)
    word = "Industry" if kind == "ixi" else "Product"
    sectors = list(sectors) if not isinstance(sectors, int) else [f"{word} {i}, n.e.c." for i in range(sectors)]
    cats = list(categories) if not isinstance(categories, int) else CATEGORIES_7[:categories]
    R, N, c = len(regions), len(sectors), len(cats)
    n = R * N
    col_reg = [r for r in regions for _ in sectors]
    col_sec = [s for _ in regions for s in sectors]
    y_reg = [r for r in regions for _ in cats]
    y_cat = [k for _ in regions for k in cats]

    def z_row(i: int) -> np.ndarray:
        # Own generator per row: the two passes below see the same row.
        g = np.random.default_rng([seed, 0, i])
        row = g.lognormal(0.0, 1.5, n) * (g.random(n) < density)
        row[(i // N) * N:(i // N + 1) * N] *= 5.0  # domestic blocks carry most of the flows
        return _round8(row)

    colsum = np.zeros(n)
    rowsum = np.zeros(n)
    for i in range(n):
        r = z_row(i)
        colsum += r
        rowsum[i] = r.sum()
    g = np.random.default_rng([seed, 1])
    Y = _round8(g.random((n, R * c)) + 0.05)
    need = np.maximum(2.0 * colsum - rowsum, 1.0)  # Y row sums making x >= 2 colsum
    Y = _round8(Y * (need / Y.sum(axis=1))[:, None] * 1.01)
    x = _round8(rowsum + Y.sum(axis=1))
    inv_x = np.where(x > 0, 1.0 / x, 0.0)

    w = _Writer(target / f"{root}.zip" if as_zip else target, root, as_zip)
    try:
        files = {}
        for name, scale in (("Z", None), ("A", inv_x)) if with_A else (("Z", None),):
            with w.open(f"{name}.txt") as f:
                _header(f, [("region", col_reg), ("sector", col_sec)], ["region", "sector"])
                for i in range(n):
                    r = z_row(i) if scale is None else _round8(z_row(i) * scale)
                    f.write(f"{col_reg[i]}\t{col_sec[i]}\t{_cells(r)}\n")
            files[name] = (f"{name}.txt", 2, 2)
        with w.open("Y.txt") as f:
            _header(f, [("region", y_reg), ("category", y_cat)], ["region", "sector"])
            for i in range(n):
                f.write(f"{col_reg[i]}\t{col_sec[i]}\t{_cells(Y[i])}\n")
        files["Y"] = ("Y.txt", 2, 2)
        with w.open("x.txt") as f:
            f.write("region\tsector\tindout\n")
            for i in range(n):
                f.write(f"{col_reg[i]}\t{col_sec[i]}\t{repr(float(x[i]))}\n")
        files["x"] = ("x.txt", 2, 1)
        with w.open("unit.txt") as f:
            f.write("region\tsector\tunit\n")
            for i in range(n):
                f.write(f"{col_reg[i]}\t{col_sec[i]}\tM.EUR\n")
        files["unit"] = ("unit.txt", 2, 1)
        _file_parameters(w, "", files, "IOSystem", "IO")
        with w.open("metadata.json") as f:  # pymrio's MRIOMetaData, as the release carries it
            json.dump({"name": "EXIOBASE", "description": f"Generated EXIOBASE 3 layout fixture ({kind})",
                       "system": kind, "version": "3 (layout)", "history": []}, f, indent=4)

        for folder, k, index_name in (("satellite", stressors, "stressor"), ("impacts", impacts, "impact")):
            if k == 0:
                continue
            if folder == "satellite":
                labels = [f"Stressor {j} - combustion - air" for j in range(k)]
                # Names as in EXIOBASE, with the characters the flat names must escape.
                labels[:3] = ["CO2 - combustion - air", "Employment: Low-skilled male", "Water Consumption Blue/Green"][:k]
                units = ["kg" if j % 3 else "1000 p" for j in range(k)]
            else:
                labels = [f"Impact {j} (method, year)" for j in range(k)]
                labels[:1] = ["GHG emissions (GWP100) | Problem oriented approach: baseline (CML, 2001) | GWP100 (IPCC, 2007)"]
                units = ["kg CO2 eq."] * k
            ge = np.random.default_rng([seed, 2 if folder == "satellite" else 3])
            F = _round8(ge.lognormal(3.0, 2.0, (k, n)) * (ge.random((k, n)) < 0.7))
            F_Y = _round8(ge.lognormal(2.0, 2.0, (k, R * c)) * (ge.random((k, R * c)) < 0.3))
            if folder == "satellite":
                sat_labels, sat_F, sat_F_Y = labels, F, F_Y
            elif impacts_from_satellite:
                C = characterisation_factors(sat_labels, labels, seed).to_numpy()
                F, F_Y = _round8(C @ sat_F), _round8(C @ sat_F_Y)
            tables = [("F", F, col_sec, "sector"), ("F_hh" if legacy_F_hh else "F_Y", F_Y, y_cat, "category")]
            if with_S:
                tables += [("S", _round8(F * inv_x), col_sec, "sector"), ("S_Y", F_Y, y_cat, "category")]
            files = {}
            for name, M, second, second_name in tables:
                with w.open(f"{folder}/{name}.txt") as f:
                    _header(f, [("region", col_reg if second is col_sec else y_reg), (second_name, second)],
                            [index_name])
                    for j in range(k):
                        f.write(f"{labels[j]}\t{_cells(M[j])}\n")
                files[name] = (f"{name}.txt", 1, 2)
            with w.open(f"{folder}/unit.txt") as f:
                f.write(f"{index_name}\tunit\n")
                for j in range(k):
                    f.write(f"{labels[j]}\t{units[j]}\n")
            files["unit"] = ("unit.txt", 1, 1)
            _file_parameters(w, f"{folder}/", files, "Extension", folder)
    finally:
        w.close()
    return target / f"{root}.zip" if as_zip else target


def characterisation_factors(stressors: list, impacts: list, seed: int = 7):
    """A characterisation table (impacts x stressors, per stressor unit), about half the factors nonzero."""
    import pandas as pd

    g = np.random.default_rng([seed, 4])
    C = _round8(g.random((len(impacts), len(stressors))) * (g.random((len(impacts), len(stressors))) < 0.5))
    return pd.DataFrame(C, index=pd.Index(impacts, name="impact"), columns=pd.Index(stressors, name="stressor"))


def _file_parameters(w: _Writer, folder: str, files: dict, systemtype: str, name: str) -> None:
    content = {
        "files": {key: {"name": fn, "nr_index_col": str(ic), "nr_header": str(hr)} for key, (fn, ic, hr) in files.items()},
        "systemtype": systemtype,
        "name": name,
    }
    with w.open(f"{folder}file_parameters.json") as f:
        json.dump(content, f, indent=4)
