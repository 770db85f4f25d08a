"""Concordances: many-to-many mappings of sectors or regions, and aggregation of whole systems.

A :class:`Concordance` is a list of (source, target) pairs, from a CSV file
(columns ``source``, ``target``, optional ``weight`` and ``comment``; lines
starting with ``#`` are comments) or a dict. Applying it turns it into a
weight matrix W (sources x targets, every row summing to 1): a source mapped
to several targets is split by the targets' gross output, by a user vector
over the targets, equally, or by the file's ``weight`` column. Totals are
preserved (checked on every application), and every source must be mapped.

Shipped concordances (``datasets/concordances``, installed with the package):
``ceads47_nbs42`` and ``ceads47_nbs153`` (CEADs inventory sectors to NBS codes).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._core import FileError, InputError

#: relative tolerance of the total-preservation check
TOTAL_RTOL = 1e-12


def _data_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / "data" / "concordances",                              # installed package
            here.parents[1] / "datasets" / "concordances"]                # source tree (python/mriotrace)


class Concordance:
    """Sector or region mapping source -> target (many-to-many).

    pairs: DataFrame with columns "source", "target" and optionally "weight"
    (share of the source going to the target) and "comment". sources and
    targets keep the order of their first appearance.
    """

    def __init__(self, pairs: pd.DataFrame, name: str = "concordance"):
        if not {"source", "target"} <= set(pairs.columns):
            raise InputError(f"concordance {name!r} needs columns 'source' and 'target'; got {list(pairs.columns)}")
        pairs = pairs.copy()
        pairs["source"] = pairs["source"].map(lambda s: str(s).strip())
        pairs["target"] = pairs["target"].map(lambda s: str(s).strip())
        dup = pairs.duplicated(["source", "target"])
        if dup.any():
            first = pairs[dup].iloc[0]
            raise InputError(f"concordance {name!r} lists the pair ({first['source']!r}, {first['target']!r}) twice")
        self.pairs = pairs.reset_index(drop=True)
        self.name = name
        self.sources = pd.Index(pd.unique(self.pairs["source"]))
        self.targets = pd.Index(pd.unique(self.pairs["target"]))

    def __repr__(self) -> str:
        return f"Concordance {self.name!r}: {len(self.sources)} sources -> {len(self.targets)} targets"

    @classmethod
    def from_csv(cls, path, name: str | None = None) -> "Concordance":
        """Read "source,target[,weight][,comment]" (``#`` lines are comments); codes stay text ("01")."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileError(f"{path}: no such file")
        try:
            df = pd.read_csv(path, dtype=str, comment="#", keep_default_na=False, na_filter=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise FileError(f"{path}: not a readable concordance CSV ({exc})") from None
        if "weight" in df.columns:
            w = pd.to_numeric(df["weight"].replace("", np.nan), errors="coerce")
            bad = df["weight"].ne("") & w.isna()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"{path}: line {i + 2}: weight {df['weight'].iloc[i]!r} is not a number")
            df["weight"] = w
        return cls(df, name=name or Path(path).stem)

    @classmethod
    def from_dict(cls, mapping: dict, name: str = "concordance") -> "Concordance":
        """{source: target} or {source: [targets]} or {source: {target: weight}}."""
        rows = []
        for s, t in mapping.items():
            if isinstance(t, dict):
                rows += [(s, tt, float(w)) for tt, w in t.items()]
            elif isinstance(t, (list, tuple, pd.Index)):
                rows += [(s, tt, np.nan) for tt in t]
            else:
                rows.append((s, t, np.nan))
        df = pd.DataFrame(rows, columns=["source", "target", "weight"])
        if df["weight"].isna().all():
            df = df.drop(columns="weight")
        return cls(df, name=name)

    @classmethod
    def shipped(cls, name: str) -> "Concordance":
        """A concordance shipped with mriotrace: "ceads47_nbs42" or "ceads47_nbs153"."""
        for d in _data_dirs():
            p = d / f"{name}.csv"
            if p.is_file():
                return cls.from_csv(p, name=name)
        known = sorted({p.stem for d in _data_dirs() if d.is_dir() for p in d.glob("*.csv")})
        raise InputError(f"no shipped concordance {name!r}; known: {known}")

    # ------------------------------------------------------------------ checks
    def check(self, sources=None, targets=None) -> None:
        """InputError unless every one of `sources` is mapped and every target is one of `targets`."""
        if sources is not None:
            missing = [s for s in sources if s not in set(self.sources)]
            if missing:
                raise InputError(f"concordance {self.name!r} does not map {len(missing)} source(s): {missing[:5]}"
                                 f"{' ...' if len(missing) > 5 else ''}; every source must be mapped")
            extra = [s for s in self.sources if s not in set(sources)]
            if extra:
                raise InputError(f"concordance {self.name!r} maps unknown source(s) {extra[:5]}; known: "
                                 f"{list(sources)[:8]} ...")
        if targets is not None:
            unknown = [t for t in self.targets if t not in set(targets)]
            if unknown:
                raise InputError(f"concordance {self.name!r} maps to unknown target(s) {unknown[:5]}; known: "
                                 f"{list(targets)[:8]} ...")

    # ------------------------------------------------------------------ weights
    def weights(self, by="output", *, output=None, sources=None, targets=None) -> pd.DataFrame:
        """W (sources x targets), rows summing to 1.

        by: "output" (split by `output`, a Series over the targets, e.g. gross
        output; a source whose targets all have output 0 is split equally,
        with a warning), "equal", "file" (the CSV's weight column, normalised
        per source), or a Series/dict over the targets (a user vector, used as
        "output"). sources/targets: the full label lists (order of W's axes;
        checked); default the concordance's own.
        """
        sources = self.sources if sources is None else pd.Index(sources)
        targets = self.targets if targets is None else pd.Index(targets)
        self.check(sources, targets)
        if isinstance(by, (pd.Series, dict)):
            output, by = pd.Series(by) if isinstance(by, dict) else by, "output"
        si = sources.get_indexer(self.pairs["source"])
        ti = targets.get_indexer(self.pairs["target"])
        if by == "equal":
            raw = np.ones(len(self.pairs))
        elif by == "file":
            if "weight" not in self.pairs.columns or self.pairs["weight"].isna().any():
                raise InputError(f"concordance {self.name!r}: by='file' needs a weight on every row")
            raw = self.pairs["weight"].to_numpy(dtype=float)
        elif by == "output":
            if output is None:
                raise InputError("by='output' needs output= (a Series over the targets, e.g. gross output)")
            out = pd.Series(output)
            out.index = out.index.map(str)
            missing = [t for t in targets if t not in out.index]
            if missing:
                raise InputError(f"output has no value for target(s) {missing[:5]}")
            raw = out.reindex(targets).to_numpy(dtype=float)[ti]
        else:
            raise InputError(f"by={by!r}; expected 'output', 'equal', 'file' or a Series over the targets")
        if (raw < 0).any() or not np.isfinite(raw).all():
            raise InputError(f"concordance {self.name!r}: weights must be finite and >= 0")
        W = np.zeros((len(sources), len(targets)))
        np.add.at(W, (si, ti), raw)
        sums = W.sum(axis=1)
        zero = sums == 0
        if zero.any():
            if by != "equal":
                warnings.warn(f"concordance {self.name!r}: {int(zero.sum())} source(s) have zero weight on all their "
                              f"targets ({list(sources[zero][:3])}); split equally", stacklevel=2)
            E = np.zeros_like(W)
            np.add.at(E, (si, ti), 1.0)
            W[zero] = E[zero]
            sums = W.sum(axis=1)
        W /= sums[:, None]
        return pd.DataFrame(W, index=sources, columns=targets)

    def apply(self, data, *, axis: int = 1, by="output", output=None, targets=None) -> pd.DataFrame:
        """`data` (labels of the sources on `axis`) moved to the targets: D @ W (axis 1) or W.T @ D (axis 0).

        Every source label of `data` must be mapped. The grand total is checked
        to be preserved (relative 1e-12); InputError otherwise.
        """
        df = data.to_frame() if isinstance(data, pd.Series) else data
        labels = df.columns if axis == 1 else df.index
        W = self.weights(by, output=output, sources=labels.map(str), targets=targets)
        arr = df.to_numpy(dtype=float)
        out = arr @ W.to_numpy() if axis == 1 else W.to_numpy().T @ arr
        before, after = arr.sum(), out.sum()
        if abs(after - before) > TOTAL_RTOL * max(np.abs(arr).sum(), 1e-300):
            raise InputError(f"concordance {self.name!r} did not preserve the total ({before!r} -> {after!r})")
        if axis == 1:
            res = pd.DataFrame(out, index=df.index, columns=W.columns)
        else:
            res = pd.DataFrame(out, index=W.columns, columns=df.columns)
        return res.iloc[:, 0] if isinstance(data, pd.Series) else res


def _as_concordance(m, labels: pd.Index, what: str) -> Concordance:
    """dict, Concordance, DataFrame of pairs, or a list of new names (pymrio's vector form)."""
    if isinstance(m, Concordance):
        return m
    if isinstance(m, pd.DataFrame):
        return Concordance(m, name=what)
    if isinstance(m, dict):
        return Concordance.from_dict(m, name=what)
    m = list(m)
    if len(m) != len(labels):
        raise InputError(f"{what}: {len(m)} new names for {len(labels)} {what}; give one per {what[:-1]}")
    return Concordance(pd.DataFrame({"source": [str(s) for s in labels], "target": [str(t) for t in m]}), name=what)


def aggregate(system, regions=None, sectors=None, *, by="equal", name: str | None = None):
    """Aggregate a whole :class:`~mriotrace.MRIOSystem` (pymrio's ``aggregate``), flows summed.

    regions / sectors: a dict {old: new} (or {old: [new, ...]}), a
    :class:`Concordance`, a DataFrame of pairs, or a list of new names, one per
    old label (pymrio's vector form); None keeps them. A label mapped to
    several new ones is split by `by` ("equal" or "file"). Z, Y, x, v, every
    extension's F and F_Y are summed (W^T Z W, ...); A and S are recomputed.
    Returns a new MRIOSystem; the old labels' order fixes the new order.
    """
    from .system import MRIOSystem

    R, S = system.get_regions(), system.get_sectors()
    Rs, Ss = R.map(str), S.map(str)
    Wr = (_as_concordance(regions, R, "regions").weights(by, sources=Rs) if regions is not None
          else pd.DataFrame(np.eye(len(R)), index=Rs, columns=Rs))
    Ws = (_as_concordance(sectors, S, "sectors").weights(by, sources=Ss) if sectors is not None
          else pd.DataFrame(np.eye(len(S)), index=Ss, columns=Ss))
    if regions is None:
        Wr.columns = R
    if sectors is None:
        Ws.columns = S
    # W is sparse: a global database's n x n' weights would be dense GBs (EXIOBASE: 9,800 x n'),
    # and Z stays sparse through W' Z W.
    W = sp.csr_array(sp.kron(sp.csr_array(Wr.to_numpy()), sp.csr_array(Ws.to_numpy())))  # (n, n')
    c = len(system.get_Y_categories())
    Wy = sp.csr_array(sp.kron(sp.csr_array(Wr.to_numpy()), sp.eye_array(c)))             # (R c, R' c)
    Wt = sp.csr_array(W.T)
    Z = sp.csc_array(Wt @ (system.Z_sparse @ W))
    x = Wt @ system.x.to_numpy()[:, 0]
    Y = np.asarray((Wt @ system.Y.to_numpy()) @ Wy)
    exts = {}
    for inst in system.extensions_instance_names:
        ext = system.extension(inst)
        if ext._value_added:
            continue
        F_Y = ext.F_Y
        exts[inst] = dict(F=np.asarray(ext.F.to_numpy() @ W), F_Y=None if F_Y is None else np.asarray(F_Y.to_numpy() @ Wy),
                          stressors=ext.get_rows(), unit=list(ext.unit["unit"]), name=ext.name)
    v = system.v
    out = MRIOSystem.from_arrays(Wr.columns, Ws.columns, system.get_Y_categories(), Z=Z, x=x, Y=Y,
                                 extensions=exts, v=None if v is None else Wt @ v.to_numpy(),
                                 monetary_unit=system.monetary_unit, name=name or f"{system.name} (aggregated)")
    total_before, total_after = float(system.x.to_numpy().sum()), float(x.sum())
    # W's rows sum to 1, so the total is kept up to the round-off of n additions
    rtol = max(TOTAL_RTOL, 4 * len(x) * np.finfo(float).eps)
    if abs(total_after - total_before) > rtol * max(abs(total_before), 1e-300):
        raise InputError(f"aggregate changed total output ({total_before!r} -> {total_after!r})")
    return out
