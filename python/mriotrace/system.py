"""MRIOSystem: a labelled EE-MRIO system with pymrio's names and layouts.

The numbers live in the compiled core (``mriotrace._core.MrioSystem``: sparse
A, x, Y, one flat list of k stressors S, F_Y, optional v and C). This module
adds what a pandas user expects from pymrio: MultiIndex labels, extensions as
attributes (``system.emissions.D_cba``), and ``calc_all()``, which factors
I - A once and computes every extension's accounts from that one
factorisation without forming the Leontief inverse.

Layouts (pymrio's):
  x                     DataFrame (region, sector) x ["indout"]
  Z, A                  DataFrame (region, sector) x (region, sector)
  Y                     DataFrame (region, sector) x (region, category)
  ext.F, ext.S          DataFrame stressors x (region, sector)
  ext.F_Y               DataFrame stressors x (region, category), or None
  ext.M, ext.D_cba, ext.D_pba, ext.D_imp, ext.D_exp
                        DataFrame stressors x (region, sector); for D_cba and
                        D_imp the column region is the consuming region
  ext.D_*_reg           DataFrame stressors x region
  ext.Q                 DataFrame (stressors..., region_from) x region_to:
                        emitted in region_from for final demand of region_to
                        (pymrio has no Q; Q_array is the same as (k, R, R))
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _core, _names
from ._util import as_csc, as_dense, check_finite, safe_reciprocal

ACCOUNT_NAMES = (
    "M", "D_cba", "D_pba", "D_imp", "D_exp", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg",
)
_SECTOR_ACCOUNTS = ACCOUNT_NAMES[:5]
_REGIONAL_ACCOUNTS = ACCOUNT_NAMES[5:]
VALUE_ADDED = "value_added"


class Extension:
    """One satellite account of an :class:`MRIOSystem` (pymrio's ``Extension``).

    ``F``, ``S`` and ``F_Y`` are read from the system; the accounts
    (``M``, ``D_cba``, ``D_pba``, ``D_imp``, ``D_exp``, the four ``_reg``
    totals and ``Q``) are None until :meth:`MRIOSystem.calc_all` fills them.
    Units: F and the D accounts in ``unit``; S and M in ``unit`` per unit of
    the system's monetary unit.
    """

    def __init__(self, system: "MRIOSystem", instance_name: str, name: str, index: pd.Index,
                 rows: np.ndarray, units, has_F_Y: bool, value_added: bool = False):
        self._system = system
        self.instance_name = instance_name
        self.name = name
        self._index = index
        self._rows = np.asarray(rows, dtype=np.int64)
        self._units = [str(u) for u in units]
        self._has_F_Y = has_F_Y
        self._value_added = value_added  # v as a one-row extension (not among the core's stressors)
        self.Q_array = None
        self.Q = None
        for acc in ACCOUNT_NAMES:
            setattr(self, acc, None)

    def __repr__(self) -> str:
        done = [a for a in ACCOUNT_NAMES if getattr(self, a) is not None]
        return (f"Extension {self.name!r} ({self.instance_name}): {len(self._index)} rows, "
                f"accounts: {', '.join(done) if done else 'not calculated (call calc_all())'}")

    # --- rows and units -------------------------------------------------------
    def get_rows(self) -> pd.Index:
        """The stressor index (pymrio: ``get_rows``)."""
        return self._index

    @property
    def rows(self) -> pd.Index:
        return self._index

    @property
    def unit(self) -> pd.DataFrame:
        """Unit per row, DataFrame with column "unit" (pymrio's layout)."""
        return pd.DataFrame({"unit": self._units}, index=self._index)

    # --- data -----------------------------------------------------------------
    @property
    def S(self) -> pd.DataFrame:
        """Direct intensities, stressors x (region, sector), unit per monetary unit."""
        sys_ = self._system
        if self._value_added:
            data = (sys_._core.v * safe_reciprocal(sys_._core.x))[None, :]
        else:
            data = sys_._core.S[self._rows, :]
        return pd.DataFrame(data, index=self._index, columns=sys_.get_index())

    @property
    def F(self) -> pd.DataFrame:
        """Stressor flows F = S diag(x), stressors x (region, sector)."""
        sys_ = self._system
        if self._value_added:
            data = np.asarray(sys_._core.v)[None, :].copy()
        else:
            data = sys_._core.S[self._rows, :] * np.asarray(sys_._core.x)[None, :]
        return pd.DataFrame(data, index=self._index, columns=sys_.get_index())

    @property
    def F_Y(self) -> pd.DataFrame | None:
        """Stressors emitted by final demand, stressors x (region, category), or None."""
        if not self._has_F_Y:
            return None
        sys_ = self._system
        return pd.DataFrame(sys_._core.F_Y[self._rows, :], index=self._index, columns=sys_._y_columns)

    @property
    def S_Y(self) -> pd.DataFrame | None:
        """F_Y per unit of final demand (pymrio's calc_S_Y: 0 where a category's total is 0)."""
        F_Y = self.F_Y
        if F_Y is None:
            return None
        y = np.asarray(self._system._core.Y).sum(axis=0)
        return F_Y * safe_reciprocal(y)[None, :]

    def get_row_data(self, row) -> dict:
        """Every available table for one row (pymrio: ``get_row_data``), as a dict of Series.

        Raises ValueError naming the known rows for an unknown stressor.
        """
        if row not in self._index:
            raise ValueError(f"unknown stressor {row!r} in extension {self.instance_name!r}; "
                             f"known: {list(self._index)}")
        out = {}
        for key in ("F", "S", "F_Y", *ACCOUNT_NAMES):
            df = getattr(self, key)
            if df is not None:
                out[key] = df.loc[row]
        return out

    # --- filled by MRIOSystem.calc_all ----------------------------------------
    def _clear(self) -> None:
        for acc in ACCOUNT_NAMES:
            setattr(self, acc, None)
        self.Q = self.Q_array = None

    def _set_accounts(self, acc: dict, pos: np.ndarray) -> None:
        """Label rows `pos` of a core accounts dict with this extension's index."""
        sys_ = self._system
        self._clear()
        if acc.get("D_cba") is not None:
            cols = sys_.get_index()
            for key in _SECTOR_ACCOUNTS:
                setattr(self, key, pd.DataFrame(acc[key][pos, :], index=self._index, columns=cols))
        if acc.get("D_cba_reg") is not None:
            regions = pd.Index(sys_._regions, name=sys_._index_names[0])
            for key in _REGIONAL_ACCOUNTS:
                setattr(self, key, pd.DataFrame(acc[key][pos, :], index=self._index, columns=regions))
            q = np.ascontiguousarray(acc["Q"][pos, :, :])  # (k_e, R, R), [s, p, r]
            self.Q_array = q
            tuples = [(*(t if isinstance(t, tuple) else (t,)), p) for t in self._index for p in sys_._regions]
            q_index = pd.MultiIndex.from_tuples(tuples, names=[*self._index.names, "region_from"])
            self.Q = pd.DataFrame(q.reshape(len(self._index) * len(sys_._regions), len(sys_._regions)),
                                  index=q_index, columns=pd.Index(sys_._regions, name="region_to"))


class MRIOSystem:
    """An environmentally-extended multi-regional input-output system.

    Build it from pandas DataFrames with pymrio's MultiIndexes::

        MRIOSystem(Z=Z, Y=Y, extensions={"emissions": {"F": F, "F_Y": F_Y, "unit": unit}})

    (or ``A=`` with ``x=`` or ``Y=`` instead of ``Z``), from arrays with
    :meth:`from_arrays`, from pymrio with :func:`mriotrace.from_pymrio`, or
    from a file with :func:`mriotrace.load`.

    Parameters
    ----------
    Z : DataFrame (region, sector) x (region, sector), monetary flows; or None
    Y : DataFrame (region, sector) x (region, category), final demand
    A : DataFrame or None, technical coefficients (instead of Z)
    x : DataFrame/Series (region, sector), gross output; computed when absent
        (Z1 + Y1 from Z, (I - A)^-1 Y1 from A)
    extensions : dict instance name -> dict(F=, F_Y=, S=, unit=, name=) or an
        object with those attributes (e.g. a pymrio Extension). F/S: rows x
        (region, sector); F_Y: rows x Y's columns; unit: DataFrame with column
        "unit", Series, list or one string.
    v : Series (region, sector), value added (optional; gives a "value_added"
        extension)
    monetary_unit : str, unit of Z, Y, x, v
    threads : int, threads for computing x from A (0 = OMP_NUM_THREADS / all cores)

    Sectors must be the same in every region, in the same order (region-major,
    like pymrio's tables); Y categories missing in a region are filled with 0.
    Raises ValueError (bad shapes, labels, NaN/Inf, negative output) and
    RuntimeError (mriotrace.NumericError: non-productive or singular system).
    """

    # ------------------------------------------------------------------ build
    def __init__(self, Z=None, Y=None, *, A=None, x=None, extensions=None, v=None, monetary_unit=None,
                 name: str = "IO", threads: int = 0):
        if (Z is None) == (A is None):
            raise ValueError("give exactly one of Z (flows) and A (coefficients) as a DataFrame "
                             "with a (region, sector) MultiIndex on both axes")
        T, what = (Z, "Z") if Z is not None else (A, "A")
        if not isinstance(T, pd.DataFrame):
            raise ValueError(f"{what} must be a pandas DataFrame here; use MRIOSystem.from_arrays for arrays")
        regions, sectors, index = _region_sector_index(T.index, f"{what}.index")
        T = _align(T, index, 0, f"{what} rows", f"{what}.index")
        T = _align(T, index, 1, f"{what} columns", f"{what}.index (columns must equal the rows)")

        check_finite(T.to_numpy(), what, index, index)  # name the bad entry by its labels
        Y_df = None
        categories, y_columns = [], None
        if Y is not None:
            if not isinstance(Y, pd.DataFrame):
                raise ValueError("Y must be a pandas DataFrame (region, sector) x (region, category)")
            Y_df = _align(Y, index, 0, "Y rows", f"{what}.index")
            categories, y_columns = _y_columns(Y_df.columns, regions)
            Y_df = _align(Y_df, y_columns, 1, "Y columns", "(region, category) pairs", fill=True)
            check_finite(Y_df.to_numpy(), "Y", index, y_columns)
        x_arr = None
        if x is not None:
            x_arr = _vector(x, index, "x")
        v_arr = _vector(v, index, "v") if v is not None else None

        specs = []
        for inst, spec in (extensions or {}).items():
            specs.append(_extension_spec(inst, spec, index, y_columns))
        self._setup(
            regions=regions, sectors=sectors, categories=categories,
            index_names=_names_or(T.index.names, ["region", "sector"]),
            y_names=_names_or(y_columns.names if y_columns is not None else None, ["region", "category"]),
            Z=T.to_numpy() if Z is not None else None, A=T.to_numpy() if A is not None else None,
            x=x_arr, Y=None if Y_df is None else Y_df.to_numpy(), specs=specs, v=v_arr,
            monetary_unit=monetary_unit, name=name, threads=threads)

    @classmethod
    def from_arrays(cls, regions, sectors, Y_categories, *, Z=None, A=None, x=None, Y=None, extensions=None,
                    v=None, monetary_unit: str = "", name: str = "IO", threads: int = 0) -> "MRIOSystem":
        """Build from NumPy arrays / scipy.sparse matrices and label lists.

        n = len(regions) * len(sectors), region-major. Z or A: (n, n), dense or
        sparse; x: (n,); Y: (n, R*c), column (r, f) at r*c + f; extensions:
        dict instance name -> dict(F=(k, n) or S=(k, n), F_Y=(k, R*c) or None,
        stressors=list of names or a pandas Index, unit=list or str, name=str).
        """
        self = cls.__new__(cls)
        specs = []
        for inst, spec in (extensions or {}).items():
            spec = dict(spec)
            F, S = spec.get("F"), spec.get("S")
            rows = spec.get("stressors")
            k = (F if F is not None else S).shape[0] if (F is not None or S is not None) else 0
            index = rows if isinstance(rows, pd.Index) else pd.Index(
                list(rows) if rows is not None else [f"stressor{i}" for i in range(k)], name="stressor")
            specs.append(dict(instance=inst, name=spec.get("name", inst), index=index,
                              F=None if F is None else as_dense(F, f"extensions[{inst!r}].F"),
                              S=None if S is None else as_dense(S, f"extensions[{inst!r}].S"),
                              F_Y=None if spec.get("F_Y") is None else as_dense(spec["F_Y"], f"extensions[{inst!r}].F_Y"),
                              units=_units(spec.get("unit"), index, inst)))
        self._setup(regions=pd.Index(regions), sectors=pd.Index(sectors), categories=pd.Index(Y_categories),
                    index_names=["region", "sector"], y_names=["region", "category"], Z=Z, A=A,
                    x=None if x is None else as_dense(x, "x", ndim=1),
                    Y=None if Y is None else as_dense(Y, "Y"), specs=specs,
                    v=None if v is None else as_dense(v, "v", ndim=1),
                    monetary_unit=monetary_unit, name=name, threads=threads)
        return self

    @classmethod
    def _from_core(cls, core, name: str = "IO") -> "MRIOSystem":
        """Wrap a core system; extensions are decoded from the flat stressor names (_names)."""
        self = cls.__new__(cls)
        labels = core.labels
        self._core = core
        self.name = name
        self._regions = pd.Index(labels.regions)
        self._sectors = pd.Index(labels.sectors)
        self._categories = pd.Index(labels.fd_categories)
        self._index_names = ["region", "sector"]
        self._y_names = ["region", "category"]
        self._monetary_unit = labels.monetary_unit
        groups: dict[str, dict] = {}
        units = labels.stressor_units
        for i, flat in enumerate(labels.stressors):
            ext, level_names, row = _names.decode(flat)
            g = groups.setdefault(ext, {"levels": level_names, "rows": [], "labels": []})
            if len(level_names) != len(g["levels"]):  # inconsistent names: keep them flat
                ext, level_names, row = _names.DEFAULT_EXTENSION + "_other", ["stressor"], (flat,)
                g = groups.setdefault(ext, {"levels": level_names, "rows": [], "labels": []})
            g["rows"].append(i)
            g["labels"].append(row)
        self._finish_setup()
        F_Y = np.asarray(core.F_Y) if core.has_F_Y else None
        for ext, g in groups.items():
            if len(g["levels"]) == 1:
                index = pd.Index([r[0] for r in g["labels"]], name=g["levels"][0])
            else:
                index = pd.MultiIndex.from_tuples(g["labels"], names=g["levels"])
            rows = np.asarray(g["rows"])
            # Files do not say which extensions had F_Y: all-zero rows mean none.
            has_F_Y = F_Y is not None and bool(np.any(F_Y[rows, :] != 0))
            self._add_extension(Extension(self, ext, ext, index, rows, [units[i] for i in rows], has_F_Y))
        self._add_value_added()
        return self

    def _setup(self, *, regions, sectors, categories, index_names, y_names, Z, A, x, Y, specs, v,
               monetary_unit, name, threads) -> None:
        self.name = name
        self._regions, self._sectors = pd.Index(regions), pd.Index(sectors)
        self._categories = pd.Index(categories)
        self._index_names, self._y_names = list(index_names), list(y_names)
        self._monetary_unit = "" if monetary_unit is None else str(monetary_unit)
        R, N, c = len(self._regions), len(self._sectors), len(self._categories)
        n = R * N
        T_name = "Z" if Z is not None else "A"
        T = as_csc(Z if Z is not None else A, T_name) if (Z is not None or A is not None) else None
        if T is None:
            raise ValueError("give exactly one of Z (flows) and A (coefficients)")
        if Z is not None and A is not None:
            raise ValueError("both Z and A were given; give exactly one")
        if T.shape != (n, n):
            raise ValueError(f"{T_name} has shape {T.shape}; expected ({n}, {n}) = "
                             f"(regions x sectors, regions x sectors) with {R} regions and {N} sectors")
        if Y is not None and Y.shape != (n, R * c):
            raise ValueError(f"Y has shape {Y.shape}; expected ({n}, {R * c}) = "
                             f"(regions x sectors, regions x categories) with {R} regions, {N} sectors, "
                             f"{c} categories")
        check_finite(T, T_name)

        # One flat stressor list for the core; extensions keep their rows.
        k_total = 0
        for s in specs:
            k_e = len(s["index"])
            for key, width in (("F", n), ("S", n), ("F_Y", R * c)):
                arr = s.get(key)
                if arr is not None and arr.shape != (k_e, width):
                    what = "regions x categories" if key == "F_Y" else "regions x sectors"
                    raise ValueError(f"extensions[{s['instance']!r}].{key} has shape {arr.shape}; expected "
                                     f"({k_e}, {width}) = (rows of the extension, {what})")
            if s.get("F") is None and s.get("S") is None:
                raise ValueError(f"extension {s['instance']!r} has neither F nor S")
            if s.get("F_Y") is not None and Y is None:
                raise ValueError(f"extension {s['instance']!r} has F_Y but the system has no Y")
            s["rows"] = np.arange(k_total, k_total + k_e)
            k_total += k_e
        flat, units = [], []
        for s in specs:
            lv = _names_or(s["index"].names, _names.default_level_names(s["index"].nlevels))
            for t in s["index"]:
                flat.append(_names.encode(s["instance"], lv, t if isinstance(t, tuple) else (t,)))
            units += s["units"]

        labels = _core.Labels()
        labels.regions = [str(r) for r in self._regions]
        labels.sectors = [str(s) for s in self._sectors]
        labels.fd_categories = [str(f) for f in self._categories]
        labels.stressors = flat
        labels.stressor_units = units
        labels.monetary_unit = self._monetary_unit

        F = S = F_Y = None
        if specs:
            if all(s.get("F") is not None for s in specs):
                F = np.asfortranarray(np.vstack([s["F"] for s in specs]))
            else:
                # Mixed F and S: intensities for all, S = F / x (0 where x = 0, as pymrio).
                recix = safe_reciprocal(self._resolve_x(labels, Z, A, T, x, Y, threads))
                S = np.asfortranarray(np.vstack([s["S"] if s.get("S") is not None else s["F"] * recix[None, :]
                                                 for s in specs]))
            if any(s.get("F_Y") is not None for s in specs):
                F_Y = np.asfortranarray(np.vstack([s["F_Y"] if s.get("F_Y") is not None else np.zeros((len(s["index"]), R * c))
                                                   for s in specs]))
        self._core = _core.MrioSystem.build(
            labels, Z=T if Z is not None else None, A=T if A is not None else None, x=x, Y=Y, F=F, S=S, F_Y=F_Y,
            v=v, threads=threads)
        self._finish_setup()
        for s in specs:
            self._add_extension(Extension(self, s["instance"], s.get("name") or s["instance"], s["index"],
                                          s["rows"], s["units"], s.get("F_Y") is not None))
        self._add_value_added()

    def _resolve_x(self, labels, Z, A, T, x, Y, threads) -> np.ndarray:
        """Gross output before the system exists (only needed to turn F into S)."""
        if x is not None:
            return np.asarray(x)
        if Z is not None and Y is not None:
            return np.asarray(T.sum(axis=1)).ravel() + np.asarray(Y).sum(axis=1)
        bare = _core.Labels()
        bare.regions, bare.sectors, bare.fd_categories = labels.regions, labels.sectors, labels.fd_categories
        return np.asarray(_core.MrioSystem.build(bare, Z=T if Z is not None else None,
                                                 A=T if A is not None else None, Y=Y, threads=threads).x)

    def _finish_setup(self) -> None:
        self._extensions: dict[str, Extension] = {}
        self._results: dict[str, dict] = {}
        self.diagnostics: dict | None = None
        self._y_columns = pd.MultiIndex.from_product([self._regions, self._categories], names=self._y_names)

    def _add_extension(self, ext: Extension) -> None:
        inst = ext.instance_name
        if not isinstance(inst, str) or not inst.isidentifier():
            raise ValueError(f"extension name {inst!r} must be a Python identifier (it becomes an attribute)")
        if inst in self._extensions or hasattr(type(self), inst) or inst.startswith("_"):
            raise ValueError(f"extension name {inst!r} is already taken (an extension or an MRIOSystem attribute)")
        self._extensions[inst] = ext
        setattr(self, inst, ext)

    def _add_value_added(self) -> None:
        if self._core.has_value_added and VALUE_ADDED not in self._extensions:
            index = pd.Index(["value added"], name="inputtype")
            self._add_extension(Extension(self, VALUE_ADDED, "Value added", index, [], [self._monetary_unit],
                                          False, value_added=True))

    # ------------------------------------------------------------- properties
    def __repr__(self) -> str:
        R, N, c = len(self._regions), len(self._sectors), len(self._categories)
        return (f"MRIOSystem {self.name!r}: {R} region{'s' * (R != 1)} x {N} sector{'s' * (N != 1)}, "
                f"{c} final-demand categor{'ies' if c != 1 else 'y'}, extensions: "
                f"{', '.join(self._extensions) or 'none'}")

    # ---------------------------------------------------------------- reports
    def _stressor_rows(self, stressors):
        """[(extension, row label, unit)] of the named stressors (default: every stressor row)."""
        out = []
        for ext in self._extensions.values():
            if ext._value_added:
                continue
            for row, unit in zip(ext.get_rows(), ext._units):
                if stressors is None or row in stressors or str(row) in stressors:
                    out.append((ext, row, unit))
        if stressors is not None:
            found = {str(r) for _, r, _ in out}
            missing = [s for s in stressors if str(s) not in found]
            if missing:
                known = [r for e in self._extensions.values() if not e._value_added for r in e.get_rows()]
                raise ValueError(f"unknown stressor(s) {missing}; known: {known[:20]}")
        return out

    def _accounts_ready(self, sector_level: bool) -> bool:
        exts = [e for e in self._extensions.values() if not e._value_added]
        return all(e.D_cba_reg is not None and (not sector_level or e.D_cba is not None) for e in exts)

    def to_frame(self, stressors=None) -> pd.DataFrame:
        """Tidy accounts (calc_all() first): one row per (stressor, region, account) with unit and value;
        accounts pba, cba, imp, exp (pymrio's D_*_reg) and their difference net_imports = cba - pba."""
        if not self._accounts_ready(False):
            raise ValueError("the accounts are not calculated: call calc_all() first")
        rows = []
        for ext, row, unit in self._stressor_rows(stressors):
            acc = {a: getattr(ext, f"D_{a}_reg").loc[row] for a in ("pba", "cba", "imp", "exp")}
            acc["net_imports"] = acc["cba"] - acc["pba"]
            for account, series in acc.items():
                for region, value in series.items():
                    rows.append((ext.instance_name, _names.row_name(row), unit, region, account, float(value)))
        return pd.DataFrame(rows, columns=["extension", "stressor", "unit", "region", "account", "value"])

    def report(self, stressors=None, top: int = 10, calculate: bool = True) -> str:
        """A readable summary: size, monetary totals, and per stressor (unit at a readable
        magnitude) the production- and consumption-based totals by region (the `top` largest and
        "other"), the largest emitting sectors and the largest consumption-based footprints by
        product. calculate: run calc_all() when the accounts are missing (else they are left out)."""
        from .units import number, scale_for

        money = self._monetary_unit or "monetary units"

        def big(v):  # money stays in the table's unit; 4 digits of a large total say enough
            return f"{v:.4g}" if abs(v) >= 1e6 else number(v)
        R, N = len(self._regions), len(self._sectors)
        x = np.asarray(self._core.x)
        lines = [repr(self).split(", extensions:")[0] + f"; money in {money}",
                 f"  gross output {big(x.sum())} {money}"
                 + (f"; value added {big(np.asarray(self._core.v).sum())}" if self._core.has_value_added else "")
                 + (f"; final demand {big(np.asarray(self._core.Y).sum())}" if self._core.Y.shape[1] else "")]
        if calculate and not self._accounts_ready(True) and self._core.k and self._core.Y.shape[1]:
            self.calc_all()
        rows = self._stressor_rows(stressors)
        shown = rows if stressors is not None else rows[:10]
        regional = self._accounts_ready(False)
        for ext, row, unit in shown:
            F = ext.F.loc[row]
            F_Y = ext.F_Y.loc[row] if ext.F_Y is not None else None
            direct_fd = float(F_Y.sum()) if F_Y is not None else 0.0
            pba_total = float(F.sum()) + direct_fd
            f, u = scale_for([pba_total, float(F.abs().max())], unit)
            head = f"{_names.row_name(row)} [{u}]" if u else _names.row_name(row)
            lines.append("")
            lines.append(f"{head}: {number(pba_total * f)} emitted in total"
                         + (f", of which {number(direct_fd * f)} directly by final demand (F_Y)" if direct_fd else ""))
            if regional:
                pba, cba = ext.D_pba_reg.loc[row], ext.D_cba_reg.loc[row]
                order = cba.abs().sort_values(ascending=False, kind="stable").index
                width = max(len(str(r)) for r in list(order[:top]) + ["region", f"other ({len(order) - top})"])
                lines.append(f"  {'region':<{width}} {'production':>12} {'consumption':>12} {'net imports':>12}")
                for r in order[:top]:
                    lines.append(f"  {str(r):<{width}} {number(pba[r] * f):>12} {number(cba[r] * f):>12} "
                                 f"{number((cba[r] - pba[r]) * f, sign=True):>12}")
                if len(order) > top:
                    rest = order[top:]
                    lines.append(f"  {'other (' + str(len(rest)) + ')':<{width}} {number(pba[rest].sum() * f):>12} "
                                 f"{number(cba[rest].sum() * f):>12} "
                                 f"{number((cba[rest] - pba[rest]).sum() * f, sign=True):>12}")
            by_sector = F.groupby(level=1, sort=False).sum()
            lines.append(f"  largest emitting sectors (production-based, {u or 'stressor unit'}):")
            for name, v in by_sector.abs().sort_values(ascending=False, kind="stable").head(min(top, 5)).items():
                v = by_sector[name]
                lines.append(f"    {number(v * f):>10}  {100 * v / pba_total if pba_total else 0:5.1f} %  {name}")
            if ext.D_cba is not None:
                by_product = ext.D_cba.loc[row].groupby(level=1, sort=False).sum()
                cba_total = float(by_product.sum()) + direct_fd
                lines.append(f"  largest footprints by final product (consumption-based, {u or 'stressor unit'}):")
                for name in by_product.abs().sort_values(ascending=False, kind="stable").head(min(top, 5)).index:
                    v = by_product[name]
                    lines.append(f"    {number(v * f):>10}  {100 * v / cba_total if cba_total else 0:5.1f} %  {name}")
        if len(rows) > len(shown):
            lines += ["", f"({len(rows) - len(shown)} more stressors: report(stressors=[...]) names them)"]
        if not regional and self._core.k:
            lines += ["", "(accounts not calculated: call calc_all() for production- and consumption-based totals)"]
        return "\n".join(lines) + "\n"

    def plot_footprint(self, stressor=None, **options):
        """:func:`mriotrace.plot.footprint` of this system (by, stack, account, top, ax); the Axes."""
        from . import plot

        return plot.footprint(self, stressor, **options)

    def plot_flows(self, stressor=None, **options):
        """:func:`mriotrace.plot.flows` of this system (top, ax): the Sankey of Q; the Axes."""
        from . import plot

        return plot.flows(self, stressor, **options)

    def _repr_html_(self) -> str:
        import html

        # Showing a system never starts a computation: the report has what is already calculated.
        return f"<pre>{html.escape(self.report(calculate=False).rstrip())}</pre>"

    @property
    def core(self):
        """The compiled ``mriotrace._core.MrioSystem`` (arrays without labels)."""
        return self._core

    @property
    def regions(self) -> pd.Index:
        return pd.Index(self._regions, name=self._index_names[0])

    @property
    def sectors(self) -> pd.Index:
        return pd.Index(self._sectors, name=self._index_names[1])

    @property
    def Y_categories(self) -> pd.Index:
        return pd.Index(self._categories, name=self._y_names[1])

    def get_regions(self) -> pd.Index:
        return self.regions

    def get_sectors(self) -> pd.Index:
        return self.sectors

    def get_Y_categories(self) -> pd.Index:
        return self.Y_categories

    def get_index(self) -> pd.MultiIndex:
        """The (region, sector) MultiIndex of Z's rows and columns."""
        return pd.MultiIndex.from_product([self._regions, self._sectors], names=self._index_names)

    @property
    def monetary_unit(self) -> str:
        return self._monetary_unit

    @property
    def unit(self) -> pd.DataFrame:
        """Monetary unit per (region, sector), column "unit" (pymrio's layout)."""
        return pd.DataFrame({"unit": [self._monetary_unit] * self._core.n}, index=self.get_index())

    @property
    def x(self) -> pd.DataFrame:
        """Gross output, (region, sector) x ["indout"] (pymrio's layout)."""
        return pd.DataFrame({"indout": np.array(self._core.x)}, index=self.get_index())

    @property
    def A_sparse(self) -> sp.csc_array:
        """A as scipy.sparse CSC (read-only arrays shared with the core)."""
        shape, data, indices, indptr = self._core.A_csc()
        return sp.csc_array((data, indices, indptr), shape=shape)

    @property
    def A(self) -> pd.DataFrame:
        """Technical coefficients as a DENSE DataFrame (n x n doubles; use A_sparse for large systems)."""
        return pd.DataFrame(self.A_sparse.toarray(), index=self.get_index(), columns=self.get_index())

    @property
    def Z_sparse(self) -> sp.csc_array:
        """Flows Z = A diag(x) as scipy.sparse CSC."""
        return sp.csc_array(self.A_sparse @ sp.diags_array(np.asarray(self._core.x)))

    @property
    def Z(self) -> pd.DataFrame:
        """Flows Z = A diag(x) as a DENSE DataFrame (n x n doubles; use Z_sparse for large systems)."""
        return pd.DataFrame(self.Z_sparse.toarray(), index=self.get_index(), columns=self.get_index())

    @property
    def Y(self) -> pd.DataFrame:
        """Final demand, (region, sector) x (region, category)."""
        return pd.DataFrame(np.array(self._core.Y), index=self.get_index(), columns=self._y_columns)

    @property
    def v(self) -> pd.Series | None:
        """Value added per (region, sector), or None."""
        if not self._core.has_value_added:
            return None
        return pd.Series(np.array(self._core.v), index=self.get_index(), name="value added")

    @property
    def C(self) -> pd.DataFrame | None:
        """Characterisation factors, indicators x flat stressor names (USEEIO's C), or None."""
        if not self._core.has_indicators:
            return None
        labels = self._core.labels
        return pd.DataFrame(np.array(self._core.C), index=pd.Index(labels.indicators, name="indicator"),
                            columns=pd.Index(labels.stressors, name="stressor"))

    @property
    def extensions(self) -> list[str]:
        """Extension names (pymrio: ``extensions``)."""
        return [e.name for e in self._extensions.values()]

    @property
    def extensions_instance_names(self) -> list[str]:
        """Attribute names of the extensions (pymrio: ``extensions_instance_names``)."""
        return list(self._extensions)

    def get_extensions(self, names=None, data: bool = False, instance_names: bool = True):
        """Iterate over extensions (pymrio's signature): objects if data, else names."""
        for inst in self._select(names):
            ext = self._extensions[inst]
            yield ext if data else (inst if instance_names else ext.name)

    def extension(self, name: str) -> Extension:
        """The extension with this instance or display name (ValueError naming the known ones)."""
        return self._extensions[self._select([name])[0]]

    def _select(self, names) -> list[str]:
        if names is None:
            return list(self._extensions)
        if isinstance(names, str):
            names = [names]
        out = []
        for nm in names:
            hits = [i for i, e in self._extensions.items() if nm in (i, e.name)]
            if not hits:
                raise ValueError(f"unknown extension {nm!r}; known extensions: {list(self._extensions)}")
            out.append(hits[0])
        return out

    # ---------------------------------------------------------------- compute
    def solver(self, solver: str = "auto", threads: int = 0, max_residual: float = 1e-8, **iterative):
        """A factorisation of I - A (``mriotrace._core.LeontiefSolver``) for repeated solves.

        solver: "auto", "dense" (LAPACK LU), "mixed" (single-precision LU refined in double to
        dense LU's accuracy), "umfpack" (sparse LU), "klu" (sparse LU for near-triangular systems), "gmres" or
        "power" (iterative, block-Jacobi preconditioned by each region's domestic
        block); threads: 0 = OMP_NUM_THREADS / all cores. Each solve checks its
        relative residual. Iterative keywords (docs/solvers.md): tol=1e-13,
        max_iterations=1000, fallback=True, restart=30, block_size (default: sectors
        per region).
        """
        return _core.LeontiefSolver.for_system(self._core, solver=solver, threads=threads,
                                               max_residual=max_residual, **iterative)

    def calc_all(self, threads: int = 0, solver: str = "auto", sector_level: bool = True, extensions=None,
                 max_residual: float = 1e-8, tol: float = 1e-13, **iterative) -> "MRIOSystem":
        """Compute every account of every extension from ONE factorisation of I - A.

        Fills M, D_cba, D_pba, D_imp, D_exp (stressors x (region, sector); only
        when sector_level), the four _reg totals (stressors x region) and Q for
        each extension (or those named in `extensions`). L is never formed:
        R solves give the regional accounts and Q; sector-level accounts add
        k + R*k transposed solves (k = stressors of all selected extensions).
        solver: "auto", "dense", "mixed", "umfpack", "klu", "gmres" or "power"; tol: relative residual
        of the iterative solvers (further keywords: see ``solver``). Solver
        diagnostics (backend and why, iterations, residual, times, fallback) are
        kept in ``self.diagnostics``. Returns self.
        """
        chosen = self._select(extensions)
        fac = self.solver(solver=solver, threads=threads, max_residual=max_residual, tol=tol, **iterative)
        has_demand = self._core.Y.shape[1] > 0
        stressor_exts = [i for i in chosen if not self._extensions[i]._value_added]
        rows = np.concatenate([self._extensions[i]._rows for i in stressor_exts]) if stressor_exts else np.zeros(0, int)
        self._results = {}
        want_va = VALUE_ADDED in chosen and self._extensions[VALUE_ADDED]._value_added and has_demand
        va_acc = None
        if len(rows):
            if has_demand and want_va:  # one set of solves for both (v / x as one more row)
                acc, va_acc = _core.calc_accounts_with_value_added(self._core, fac, sector_level=sector_level,
                                                                   regional=True, stressors=[int(r) for r in rows])
            elif has_demand:
                acc = _core.calc_accounts(self._core, fac, sector_level=sector_level, regional=True,
                                          stressors=[int(r) for r in rows])
            else:  # no final demand: multipliers only
                acc = {"stressors": list(rows), "M": _core.calc_M(fac, np.asfortranarray(self._core.S[rows, :]))}
            self._results["stressors"] = acc
            pos_of = {int(r): p for p, r in enumerate(acc["stressors"])}
            for inst in stressor_exts:
                ext = self._extensions[inst]
                pos = np.array([pos_of[int(r)] for r in ext._rows], dtype=np.int64)
                ext._set_accounts(acc, pos)
                if not has_demand:
                    ext.M = pd.DataFrame(acc["M"][pos, :], index=ext._index, columns=self.get_index())
        if want_va:
            acc = va_acc if va_acc is not None else _core.calc_value_added_accounts(
                self._core, fac, sector_level=sector_level, regional=True)
            self._results[VALUE_ADDED] = acc
            self._extensions[VALUE_ADDED]._set_accounts(acc, np.array([0]))
        self.diagnostics = fac.diagnostics()
        return self

    def calc_L(self, solver: str = "auto", threads: int = 0) -> pd.DataFrame:
        """The Leontief inverse L = (I - A)^-1 as a DENSE DataFrame.

        Costs n^2 doubles and n solves: nothing in mriotrace needs it (every
        account is computed from solves); use it only when L itself is wanted.
        """
        L = self.solver(solver=solver, threads=threads).leontief_inverse()
        return pd.DataFrame(L, index=self.get_index(), columns=self.get_index())

    def demand_footprint(self, y, *, indicators: bool = False, solver: str = "auto", threads: int = 0) -> dict:
        """Footprint of one demand vector, the USEEIO way.

        y: Series indexed like x, or an (n,) array (monetary unit). Returns a dict
          final  = M diag(y)      rows x (region, sector): impacts of each product's final demand
          direct = S diag(L y)    rows x (region, sector): impacts where they are emitted
          x      = L y            Series (region, sector)
        Rows are the flat stressors, or with indicators=True the indicators
        (M -> N = C M, S -> D = C S, USEEIO's names).
        """
        idx = self.get_index()
        y_arr = _vector(y, idx, "y") if isinstance(y, (pd.Series, pd.DataFrame)) else as_dense(y, "y", ndim=1)
        if y_arr.shape != (self._core.n,):
            raise ValueError(f"y has shape {y_arr.shape}; expected ({self._core.n},) (regions x sectors)")
        fac = self.solver(solver=solver, threads=threads)
        S = np.asfortranarray(self._core.S)
        M = _core.calc_M(fac, S)
        labels = self._core.labels
        rows = pd.Index(labels.stressors, name="stressor")
        if indicators:
            if not self._core.has_indicators:
                raise ValueError("indicators=True needs a characterisation matrix C; this system has none")
            C = np.asarray(self._core.C)
            S, M = np.asfortranarray(C @ S), np.asfortranarray(C @ M)
            rows = pd.Index(labels.indicators, name="indicator")
        out = _core.calc_demand_footprint(fac, S, M, y_arr)
        return {"final": pd.DataFrame(out["final"], index=rows, columns=idx),
                "direct": pd.DataFrame(out["direct"], index=rows, columns=idx),
                "x": pd.Series(out["x"], index=idx, name="indout")}

    def results(self):
        """The accounts of the last calc_all as a :class:`mriotrace.results.AccountsResults`
        (the tables ``mriotrace.load_results`` gives for a saved file; tidy exports
        ``to_frame``, ``to_parquet``, ``to_csv``, ``to_xarray``)."""
        from .results import AccountsResults
        return AccountsResults.from_system(self)

    # ------------------------------------------------------------ conversion
    def save(self, path) -> None:
        """Write the system and any computed accounts to an HDF5 file (atomically)."""
        from .io import save
        save(self, path)

    def to_pymrio(self, include_x: bool = True):
        """A pymrio.IOSystem with Z, Y (and x), unit and every extension's F, F_Y, unit."""
        import pymrio

        exts = {}
        for inst, ext in self._extensions.items():
            exts[inst] = {"name": ext.name, "F": ext.F, "F_Y": ext.F_Y, "unit": ext.unit}
        return pymrio.IOSystem(Z=self.Z, Y=self.Y, x=self.x if include_x else None, unit=self.unit,
                               name=self.name, **exts)


# ---------------------------------------------------------------- helpers
def _names_or(names, default) -> list:
    if names is None or any(n is None for n in names):
        return list(default)
    return list(names)


def _region_sector_index(idx: pd.Index, what: str):
    """(regions, sectors, full region-major MultiIndex) of a (region, sector) index."""
    if not isinstance(idx, pd.MultiIndex) or idx.nlevels != 2:
        raise ValueError(f"{what} must be a 2-level MultiIndex (region, sector); got "
                         f"{type(idx).__name__} with {idx.nlevels} level(s)")
    if not idx.is_unique:
        raise ValueError(f"{what} has duplicate (region, sector) labels: {list(idx[idx.duplicated()][:5])}")
    regions = idx.get_level_values(0).unique()
    sectors = idx.get_level_values(1).unique()
    full = pd.MultiIndex.from_product([regions, sectors], names=_names_or(idx.names, ["region", "sector"]))
    if len(idx) != len(full):
        raise ValueError(f"{what} must hold every (region, sector) pair once, with the same sectors in every "
                         f"region: {len(regions)} regions x {len(sectors)} sectors = {len(full)} pairs expected, "
                         f"{len(idx)} found")
    return regions, sectors, full


def _y_columns(cols: pd.Index, regions: pd.Index):
    """(categories, full (region, category) MultiIndex) of Y's columns."""
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels != 2:
        raise ValueError(f"Y.columns must be a 2-level MultiIndex (region, category); got "
                         f"{type(cols).__name__} with {cols.nlevels} level(s)")
    y_regions = cols.get_level_values(0).unique()
    if set(y_regions) != set(regions):
        missing = [r for r in regions if r not in set(y_regions)]
        unexpected = [r for r in y_regions if r not in set(regions)]
        raise ValueError(f"Y.columns regions do not match Z's regions: missing {missing}, unexpected {unexpected}")
    categories = cols.get_level_values(1).unique()
    return categories, pd.MultiIndex.from_product([regions, categories],
                                                  names=_names_or(cols.names, ["region", "category"]))


def _align(df, labels: pd.Index, axis: int, what: str, against: str, fill: bool = False):
    """df with axis `axis` in the order of `labels`; ValueError listing missing/unexpected labels."""
    current = df.axes[axis]
    if current.equals(labels):
        return df
    if not current.is_unique:
        raise ValueError(f"{what} has duplicate labels: {list(current[current.duplicated()][:5])}")
    cur = set(current)
    lab = set(labels)
    missing = [l for l in labels if l not in cur]
    unexpected = [l for l in current if l not in lab]
    if unexpected or (missing and not fill):
        raise ValueError(f"{what} do not match {against}: missing {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                         f"{' ...' if len(unexpected) > 5 else ''}")
    return df.reindex(labels, axis=axis, fill_value=0.0)


def _vector(v, index: pd.Index, what: str) -> np.ndarray:
    """A (region, sector)-labelled vector (Series, 1-column or 1-row DataFrame, or array) as (n,)."""
    if isinstance(v, pd.DataFrame):
        if v.shape[1] == 1:
            v = v.iloc[:, 0]
        elif v.shape[0] == 1:
            v = v.iloc[0, :]
        else:
            raise ValueError(f"{what} must be a vector; got a DataFrame of shape {v.shape}")
    if isinstance(v, pd.Series):
        v = _align(v, index, 0, f"{what} labels", "the (region, sector) index")
    arr = as_dense(v, what, ndim=1)
    if arr.shape != (len(index),):
        raise ValueError(f"{what} has shape {arr.shape}; expected ({len(index)},) (regions x sectors)")
    return arr


def _units(unit, index: pd.Index, inst: str) -> list[str]:
    k = len(index)
    if unit is None:
        return [""] * k
    if isinstance(unit, str):
        return [unit] * k
    if isinstance(unit, pd.DataFrame):
        unit = unit["unit"] if "unit" in unit.columns else unit.iloc[:, 0]
    if isinstance(unit, pd.Series):
        if unit.index.equals(index) or set(unit.index) == set(index):
            unit = unit.reindex(index)
        return [str(u) for u in unit.to_numpy()]
    unit = [str(u) for u in unit]
    if len(unit) != k:
        raise ValueError(f"extensions[{inst!r}].unit has {len(unit)} entries; expected {k} (one per row)")
    return unit


def _get(spec, key):
    if isinstance(spec, dict):
        return spec.get(key)
    return getattr(spec, key, None)


def _extension_spec(inst: str, spec, index: pd.Index, y_columns) -> dict:
    """Arrays of one extension given as DataFrames, aligned to the system's labels."""
    F, S, F_Y = _get(spec, "F"), _get(spec, "S"), _get(spec, "F_Y")
    base = F if F is not None else S
    if base is None:
        raise ValueError(f"extension {inst!r} has neither F nor S")
    for key, df in (("F", F), ("S", S), ("F_Y", F_Y)):
        if df is not None and not isinstance(df, pd.DataFrame):
            raise ValueError(f"extensions[{inst!r}].{key} must be a pandas DataFrame here")
    rows = base.index
    out = {"instance": inst, "name": _get(spec, "name") or inst, "index": rows}
    if F is not None:
        F = _align(F, index, 1, f"extensions[{inst!r}].F columns", "Z's (region, sector) index")
        out["F"] = as_dense(F, f"extensions[{inst!r}].F")
        check_finite(out["F"], f"extensions[{inst!r}].F", rows, F.columns)
    else:
        S = _align(S, index, 1, f"extensions[{inst!r}].S columns", "Z's (region, sector) index")
        out["S"] = as_dense(S, f"extensions[{inst!r}].S")
        check_finite(out["S"], f"extensions[{inst!r}].S", rows, S.columns)
    if F_Y is not None:
        if y_columns is None:
            raise ValueError(f"extension {inst!r} has F_Y but the system has no Y")
        F_Y = _align(F_Y, rows, 0, f"extensions[{inst!r}].F_Y rows", f"extensions[{inst!r}].F rows")
        F_Y = _align(F_Y, y_columns, 1, f"extensions[{inst!r}].F_Y columns", "Y's (region, category) columns",
                     fill=True)
        out["F_Y"] = as_dense(F_Y, f"extensions[{inst!r}].F_Y")
        check_finite(out["F_Y"], f"extensions[{inst!r}].F_Y", rows, F_Y.columns)
    out["units"] = _units(_get(spec, "unit"), rows, inst)
    return out
