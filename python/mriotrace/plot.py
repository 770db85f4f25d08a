"""Plots of accounts, flows, scenarios and supply chains (matplotlib), all in one module.

* :func:`footprint` -- production- / consumption-based emissions as sorted bars by region,
  sector or final-demand category, optionally stacked (pymrio's ``plot_account``, with units)
* :func:`flows` -- where emissions are produced vs where they are consumed: a Sankey of the
  region x region embodied-emission flows Q
* :func:`waterfall` -- a scenario's change of production-based emissions, step by step
* :func:`spa_tree` -- the top structural paths as a tree of boxes

Every function takes ``ax=None`` (a new figure) or an Axes to draw into, returns the Axes
(``ax.figure`` is the Figure), writes the unit on an axis and picks a readable magnitude
(Mt, kt, t; see :func:`mriotrace.units.readable`). Labels are wrapped, never cut; the
items beyond ``top`` are summed into one "other" bar, so the bars always add up to the total.
Gallery: docs/gallery/README.md (made by docs/gallery/make_gallery.py).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from . import _core
from ._names import row_name
from .units import number, scale_for

__all__ = ["footprint", "flows", "waterfall", "spa_tree"]

_OTHER = "#b0b0b0"
_DIRECT_COLOR = "#3b3b3b"
_DIRECT = "direct emissions of final demand"


# --- shared helpers -----------------------------------------------------------------------

def _new_axes(ax, size):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def wrap(label, width: int = 36) -> str:
    """A label wrapped at `width` characters, never cut."""
    return textwrap.fill(str(label), width, break_on_hyphens=False, break_long_words=False)


def _unit_label(name, unit: str) -> str:
    return f"{row_name(name)} [{unit}]" if unit else row_name(name)


def _top(series: pd.Series, top: int, other: str = "other") -> pd.Series:
    """The `top` largest |values| (descending), the rest summed as "other (k more)"."""
    s = series[series != 0]
    order = s.abs().sort_values(ascending=False, kind="stable").index
    out = s[order[:top]]
    if len(order) > top:
        out = pd.concat([out, pd.Series({f"{other} ({len(order) - top} more)": s[order[top:]].sum()})])
    return out


def _tight(fig):
    import warnings

    with warnings.catch_warnings():  # a label that does not fit is still drawn; never fail on it
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()


def _title(ax, parts, fontsize, **kw):
    """A title of several parts, wrapped until it fits the figure (never cut at the edge), then a tight layout."""
    fig = ax.figure
    for width in (120, 100, 85, 70, 58, 48, 40):
        ax.set_title("\n".join(wrap(p, width) for p in parts), fontsize=fontsize, **kw)
        _tight(fig)
        box = ax.title.get_window_extent(fig.canvas.get_renderer())
        if box.x0 >= 0 and box.x1 <= fig.bbox.x1:
            return


def _extension_of(system, stressor):
    """(extension, row label, unit) of a stressor name (the flat name or the extension's row label)."""
    exts = [e for e in system.get_extensions(data=True) if not e._value_added]
    if isinstance(stressor, str) and "::" in stressor:  # a flat name: "emissions::CO2/air"
        from . import _names

        inst, _, row = _names.decode(stressor)
        ext = system._extensions.get(inst)
        if ext is not None and (row[0] if len(row) == 1 else row) in ext.get_rows():
            stressor = row[0] if len(row) == 1 else row
    if stressor is None:
        rows = [(e, r) for e in exts for r in e.get_rows()]
        if len(rows) != 1:
            raise ValueError(f"name a stressor: the system has {len(rows)} "
                             f"({[r for _, r in rows][:10]})")
        stressor = rows[0][1]
    for e in exts:
        if stressor in e.get_rows():
            unit = e.unit.loc[stressor, "unit"]
            return e, stressor, str(unit.iloc[0] if isinstance(unit, pd.Series) else unit)
    known = [r for e in exts for r in e.get_rows()]
    raise ValueError(f"unknown stressor {stressor!r}; known: {known[:20]}")


# --- footprints ---------------------------------------------------------------------------

_ACCOUNTS = {"cba": "consumption-based", "pba": "production-based"}


def _cube(system, ext, row) -> np.ndarray:
    """Consumption-based footprint of one stressor by (consuming region r, product p, category f):
    sum_q M[(q, p)] Y[(q, p), (r, f)], shape (R, N, c); F_Y is not included."""
    from .footprint_split import _multipliers

    _, M = _multipliers(system, ext.instance_name)
    m = M[ext.get_rows().get_loc(row)]
    R, N, c = len(system.regions), len(system.sectors), len(system.Y_categories)
    Y = np.asarray(system.core.Y).reshape(R, N, R, c)  # [q, p, r, f]
    return np.einsum("qp,qprf->rpf", m.reshape(R, N), Y)


def _footprint_table(system, ext, row, by, stack, account) -> pd.DataFrame:
    """Items (rows) x segments (columns) of one account, in the stressor's unit."""
    regions, sectors, cats = list(system.regions), list(system.sectors), list(system.Y_categories)
    R, c = len(regions), len(cats)
    F_Y = ext.F_Y
    fy = np.zeros((R, c)) if F_Y is None else F_Y.loc[row].to_numpy().reshape(R, c)
    if account == "cba":
        cube = _cube(system, ext, row)  # [r, p, f]
        axes = {"region": regions, "sector": sectors, "category": cats}
        dims = {"region": 0, "sector": 1, "category": 2}
        keep = [dims[by]] + ([dims[stack]] if stack else [])
        drop = tuple(d for d in range(3) if d not in keep)
        data = cube.sum(axis=drop)
        if stack and keep[0] > keep[1]:
            data = data.T
        table = pd.DataFrame(data if stack else data[:, None], index=axes[by],
                             columns=axes[stack] if stack else ["total"])
        # Direct emissions of final demand (households burning fuel): their own sector, in their
        # consuming region and category.
        if fy.any():
            direct = {"region": fy.sum(axis=1), "category": fy.sum(axis=0), "sector": None}
            if by == "sector":
                seg = (pd.Series(fy.sum(axis=1), index=regions) if stack == "region" else
                       pd.Series(fy.sum(axis=0), index=cats) if stack == "category" else pd.Series({"total": fy.sum()}))
                table.loc[_DIRECT] = seg.reindex(table.columns).fillna(0.0)
            elif stack == "sector":
                table[_DIRECT] = direct[by]
            elif stack is None:
                table["total"] += direct[by]
            else:  # by region stacked by category or the reverse: F_Y sits in its cell
                table += fy if by == "region" else fy.T
        return table
    # Production-based: where (region, sector) it is emitted; F_Y where final demand is.
    F = ext.F.loc[row].to_numpy().reshape(R, len(sectors))
    if by == "category" or stack == "category":
        raise ValueError('production-based emissions have no final-demand category; use account="cba" '
                         'for by / stack = "category"')
    data = F if by == "region" else F.T
    if stack:
        table = pd.DataFrame(data, index=regions if by == "region" else sectors,
                             columns=sectors if by == "region" else regions)
    else:
        table = pd.DataFrame(data.sum(axis=1)[:, None], index=regions if by == "region" else sectors,
                             columns=["total"])
    if fy.any():
        if by == "sector":
            table.loc[_DIRECT] = (pd.Series(fy.sum(axis=1), index=regions) if stack else
                                  pd.Series({"total": fy.sum()})).reindex(table.columns).fillna(0.0)
        elif stack:
            table[_DIRECT] = fy.sum(axis=1)
        else:
            table["total"] += fy.sum(axis=1)
    return table


def _limit(table: pd.DataFrame, top: int, top_segments: int) -> pd.DataFrame:
    """Rows: the `top` largest totals and one "other" row; columns: the largest segments and "other"."""
    totals = table.sum(axis=1)
    kept = _top(totals, top).index
    rows = [r for r in kept if r in table.index]
    out = table.loc[rows]
    rest = [r for r in table.index if r not in rows]
    if rest:
        out.loc[f"other ({len(rest)} more)"] = table.loc[rest].sum()
    ranked = [c for c in out.columns if c != _DIRECT]  # direct emissions of final demand stay their own segment
    if len(ranked) > top_segments + 1:
        seg = out[ranked].abs().sum().sort_values(ascending=False, kind="stable")
        big = list(seg.index[:top_segments])
        small = [s for s in ranked if s not in big]
        kept = out[big].assign(**{f"other ({len(small)} more)": out[small].sum(axis=1)})
        if _DIRECT in out.columns:
            kept[_DIRECT] = out[_DIRECT]
        out = kept
    out = out.loc[:, (out != 0).any()]
    return out


def footprint(system, stressor: str | None = None, *, by: str = "region", stack: str | None = None,
              account: str = "cba", top: int = 12, top_segments: int = 8, ax=None, title: str | None = None):
    """Emissions of one stressor as horizontal bars, largest first, the rest in one "other" bar.

    by: "region", "sector" or "category" (final-demand category; consumption-based only): one bar
    each. account: "cba" (consumption-based: a region's final demand, a product's final use, a
    category), "pba" (production-based: where it is emitted) or "both" (the two side by side).
    stack: split every bar by "region", "sector" or "category" (the `top_segments` largest
    segments and "other"; not with "both"). Direct emissions of final demand (F_Y, e.g.
    households' own fuel) count where they happen: their own bar for by="sector", their region
    and category otherwise. Every bar is labelled with its value; the axis has the unit at a
    readable magnitude. Returns the Axes.
    """
    ext, row, unit = _extension_of(system, stressor)
    if by not in ("region", "sector", "category"):
        raise ValueError(f'by = {by!r}; expected "region", "sector" or "category"')
    if stack not in (None, "region", "sector", "category") or stack == by:
        raise ValueError(f'stack = {stack!r}; expected None or one of "region", "sector", "category" other than '
                         f'by = {by!r}')
    if account not in ("cba", "pba", "both"):
        raise ValueError(f'account = {account!r}; expected "cba", "pba" or "both"')
    if account == "both":
        if stack is not None:
            raise ValueError('account = "both" draws two bars per item; it cannot also be stacked (stack=None)')
        cba = _footprint_table(system, ext, row, by, None, "cba")["total"]
        pba = _footprint_table(system, ext, row, by, None, "pba")["total"]
        table = pd.DataFrame({"production-based": pba, "consumption-based": cba}).fillna(0.0)
        rank = table.abs().max(axis=1)
        kept = [r for r in _top(rank, top).index if r in table.index]
        rest = [r for r in table.index if r not in kept]
        shown = table.loc[kept]
        if rest:
            shown.loc[f"other ({len(rest)} more)"] = table.loc[rest].sum()
    else:
        shown = _limit(_footprint_table(system, ext, row, by, stack, account), top, top_segments)
    if shown.empty:
        raise ValueError(f"{row_name(row)!r} is zero everywhere: nothing to plot")
    factor, shown_unit = scale_for(np.ravel(shown.to_numpy()) if account == "both" else shown.sum(axis=1), unit)
    shown = shown * factor
    labels = [wrap(i, 42) for i in shown.index]
    n = len(shown)
    legend = account == "both" or bool(stack and len(shown.columns) > 1)
    ax = _new_axes(ax, (12 if legend and account != "both" else 9.5, 0.42 * n * (1.35 if account == "both" else 1) + 1.8))
    y = np.arange(n)
    colors = _colors(list(shown.columns))
    if account == "both":
        h = 0.4
        for j, (col, color) in enumerate(zip(shown.columns, ("tab:orange", "tab:blue"))):
            bars = ax.barh(y + (j - 0.5) * h, shown[col].to_numpy(), height=h, color=color, label=col)
            ax.bar_label(bars, labels=[number(v) for v in shown[col]], padding=3, fontsize=7.5)
        negative = bool((shown.to_numpy() < 0).any())
    else:
        left_pos, left_neg = np.zeros(n), np.zeros(n)
        for col in shown.columns:
            v = shown[col].to_numpy()
            left = np.where(v >= 0, left_pos, left_neg)
            ax.barh(y, v, left=left, height=0.7, color=colors[col],
                    label=None if col == "total" else wrap(col, 34))
            left_pos += np.where(v >= 0, v, 0)
            left_neg += np.where(v < 0, v, 0)
        totals = shown.sum(axis=1).to_numpy()
        ends = np.where(totals >= 0, left_pos, left_neg)
        for yi, end, tot in zip(y, ends, totals):
            ax.annotate(number(tot), (end, yi), xytext=(3 if tot >= 0 else -3, 0), textcoords="offset points",
                        ha="left" if tot >= 0 else "right", va="center", fontsize=7.5)
        negative = bool((totals < 0).any())
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()  # largest on top
    ax.axvline(0, color="0.3", lw=0.8)
    lo, hi = ax.get_xlim()
    # Room for the values beside the bars (on the left only when a bar ends there).
    ax.set_xlim(lo - 0.1 * (hi - lo) if negative else lo, hi + 0.12 * (hi - lo))
    _thousands(ax.xaxis)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    what = {"cba": "consumption-based", "pba": "production-based", "both": "production- and consumption-based"}
    ax.set_xlabel(f"{_unit_label(row, shown_unit)}, {what[account]}")
    names = {"region": "consuming region" if account == "cba" else "region",
             "sector": {"cba": "product bought by final demand", "pba": "emitting sector",
                        "both": "product (consumption) / sector (production)"}[account],
             "category": "final-demand category"}
    ax.set_ylabel(names[by])
    head = title or system.name
    sub = f"{row_name(row)}, {what[account]}, by {names[by]}" + (f" and {names[stack]}" if stack else "")
    if account == "both":
        sub += (f": production-based {number(table['production-based'].sum() * factor)}, consumption-based "
                f"{number(table['consumption-based'].sum() * factor)} {shown_unit}")
    else:
        sub += f": total {number(float(shown.sum().sum()))} {shown_unit}"
    if legend:
        if account == "both":
            ax.legend(fontsize=7.5, loc="lower right", frameon=True)
        else:  # outside the bars, never over them
            ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                      title=names[stack], title_fontsize=8)
    _title(ax, [head, sub], 10)
    return ax


def _thousands(axis):
    """Tick labels with thousands separators (1,000 rather than 1000) when the ticks are integers."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        return f"{v:,.0f}" if abs(v) >= 1000 and float(v).is_integer() else f"{v:g}"

    axis.set_major_formatter(FuncFormatter(fmt))


def _colors(names) -> dict:
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"].colors
    # Strong then light tab20 colours, without the greys ("other" and direct emissions use grey).
    palette = [c for i, c in enumerate(tab20[0::2] + tab20[1::2]) if i not in (7, 17)]
    out, k = {}, 0
    for name in names:
        if str(name).startswith("other"):
            out[name] = _OTHER
        elif name == _DIRECT:
            out[name] = _DIRECT_COLOR
        elif name == "total":
            out[name] = "tab:blue"
        else:
            out[name] = palette[k % len(palette)]
            k += 1
    return out


# --- flows between regions ----------------------------------------------------------------

def flows(system, stressor: str | None = None, *, top: int = 8, ax=None, title: str | None = None):
    """Where emissions are produced (left) and whose final demand they serve (right): a Sankey of
    Q (emitted in region p for the final demand of region r, from ``calc_all``).

    The `top` regions by max(production, consumption) get their own node, the rest one
    "other regions" node; a band's width is the flow. Bands within a region are drawn pale,
    between regions dark. Node labels give the region and its total at a readable magnitude.
    Direct emissions of final demand (F_Y) are not flows between regions and are left out.
    Returns the Axes.
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    ext, row, unit = _extension_of(system, stressor)
    if len(system.regions) < 2:
        raise ValueError(f"flows between regions need at least 2 regions; {system.name!r} has "
                         f"{len(system.regions)}")
    if ext.Q_array is None:
        system.calc_all(extensions=[ext.instance_name], sector_level=False)
    regions = list(system.regions)
    Q = np.asarray(ext.Q_array[ext.get_rows().get_loc(row)])  # [p, r]
    size = np.maximum(Q.sum(axis=1), Q.sum(axis=0))
    order = [int(i) for i in np.argsort(-size, kind="stable")]
    keep = order[:top]
    names = [regions[i] for i in keep]
    rest = order[top:]
    groups = [[i] for i in keep] + ([rest] if rest else [])
    if rest:
        names.append(f"other regions ({len(rest)})")
    m = len(groups)
    G = np.array([[Q[np.ix_(a, b)].sum() for b in groups] for a in groups])  # [from, to]
    factor, shown_unit = scale_for([G.sum(axis=1).max(), G.sum(axis=0).max()], unit)
    G = G * factor
    total = G.sum()
    gap = 0.02 * total
    ax = _new_axes(ax, (10, 0.55 * m + 3))
    w = 0.06  # node width (axis units; the axis runs 0..1)
    colors = _colors(names)

    def positions(sizes):
        tops, y = [], 0.0
        for s in sizes:
            tops.append(y)
            y += s + gap
        return np.array(tops)

    out_size, in_size = G.sum(axis=1), G.sum(axis=0)
    left_top, right_top = positions(out_size), positions(in_size)
    left_used, right_used = left_top.copy(), right_top.copy()
    # Bands in a fixed order so they do not cross more than needed: by source, then destination.
    for a in range(m):
        for b in range(m):
            f = G[a, b]
            if f <= 0:
                continue
            y0, y1 = left_used[a], right_used[b]
            left_used[a] += f
            right_used[b] += f
            x0, x1 = w, 1 - w
            xm = 0.5
            verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 + f), (xm, y1 + f), (xm, y0 + f),
                     (x0, y0 + f), (x0, y0)]
            codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
                     Path.CURVE4, Path.CLOSEPOLY]
            ax.add_patch(PathPatch(Path(verts, codes), facecolor=colors[names[a]], edgecolor="none",
                                   alpha=0.22 if a == b else 0.7))
    for j, name in enumerate(names):
        for x, top_, s, side in ((0, left_top[j], out_size[j], "left"), (1 - w, right_top[j], in_size[j], "right")):
            ax.add_patch(Rectangle((x, top_), w, s, facecolor=colors[name], edgecolor="0.2", lw=0.5))
            label = f"{name}  {number(s)}" if side == "left" else f"{number(s)}  {name}"
            ax.text(-0.01 if side == "left" else 1.01, top_ + s / 2, label, ha="right" if side == "left" else "left",
                    va="center", fontsize=8)
    height = max(left_top[-1] + out_size[-1], right_top[-1] + in_size[-1])
    ax.set_xlim(-0.32, 1.32)
    ax.set_ylim(height + gap, -2.5 * gap)
    ax.set_xticks([w / 2, 1 - w / 2], [f"produced in (emitted)\n[{shown_unit}]",
                                       f"consumed by (final demand)\n[{shown_unit}]"], fontsize=9)
    ax.tick_params(axis="x", length=0)
    ax.xaxis.set_ticks_position("top")
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    inter = (Q.sum() - np.trace(Q)) * factor  # of the whole table: also the flows among the "other regions"
    _title(ax, [title or system.name, f"{_unit_label(row, shown_unit)} embodied in final demand: {number(total)} in "
                                      f"total, {number(inter)} ({100 * inter / total:.1f} %) between regions; dark bands cross "
                                      f"regions, pale ones stay in a region (or among the other regions)"],
           10)
    return ax


# --- scenario waterfall -------------------------------------------------------------------

def waterfall(result, stressor: str | None = None, *, by: str = "region", top: int = 10, ax=None):
    """A scenario's change of production-based emissions from base to scenario, step by step.

    by: "region" (dPBA per region), "sector" (the change of direct emissions summed over
    regions) or "region_sector" (per (region, sector)); the `top` largest changes get their own
    bar, the rest one "other" bar, and the last bar is the net change. The axis is the change
    from the base (the base and scenario totals are in the title), so small steps stay visible;
    a bar too small to see is drawn as a marker. Every bar carries its value; labels are full
    (wrapped). Returns the Axes.
    """
    stressors = list(result._stressors)
    name = stressor if stressor is not None else stressors[0]
    if name not in stressors:
        raise ValueError(f"unknown stressor {name!r}; known: {stressors}")
    i = stressors.index(name)
    if by == "region":
        parts = result.dpba.loc[name]
    elif by == "sector":
        parts = result.dF.loc[name].groupby(level="sector", sort=False).sum()
    elif by == "region_sector":
        parts = result.dF.loc[name]
        parts.index = [f"{r} | {s}" for r, s in parts.index]
    else:
        raise ValueError(f'by = {by!r}; expected "region", "sector" or "region_sector"')
    unit = result._units[i]
    base_total = float(np.asarray(result._base.pba)[i].sum())
    change = float(np.asarray(result._raw["dpba"])[i].sum())
    if by != "region":  # direct emissions of final demand (F_Y) are in dPBA but in no sector
        rest = change - float(parts.sum())
        if abs(rest) > 1e-9 * max(abs(change), abs(base_total) * 1e-12, 1e-300):
            parts = pd.concat([parts, pd.Series({_DIRECT: rest})])
    shown = _top(parts, top)
    factor, shown_unit = scale_for(list(shown.values) + [change], unit)
    steps = shown.to_numpy() * factor
    net = change * factor
    n = len(steps) + 1
    ax = _new_axes(ax, (9.5, 0.45 * n + 2.0))
    starts = np.concatenate([[0.0], np.cumsum(steps)[:-1]]) if len(steps) else np.zeros(0)
    span = max(np.abs(np.concatenate([starts, starts + steps, [net, 0.0]])).max(), 1e-300)
    tiny = 0.004 * span
    labels = [wrap(s, 40) for s in shown.index] + ["net change"]
    for j, (s0, d) in enumerate(zip(starts, steps)):
        color = "tab:red" if d > 0 else "tab:green"
        ax.barh(j, d, left=s0, height=0.65, color=color)
        if abs(d) < tiny:  # too thin to see as a bar: a marker where it is
            ax.plot([s0], [j], marker="|", markersize=14, mew=2.5, color=color)
        if j:
            ax.plot([s0, s0], [j - 1 - 0.33, j + 0.33], color="0.5", lw=0.6, ls=":")
    ax.barh(n - 1, net, height=0.65, color="0.35")
    if abs(net) < tiny:
        ax.plot([0], [n - 1], marker="|", markersize=14, mew=2.5, color="0.35")
    for j, (s0, d) in enumerate(zip(list(starts) + [0.0], list(steps) + [net])):
        end = max(s0, s0 + d)
        ax.annotate(number(d, sign=True), (end, j), xytext=(4, 0), textcoords="offset points", ha="left",
                    va="center", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="0.2", lw=0.9)
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.18 * (hi - lo))
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    ax.set_xlabel(f"change of {_unit_label(name, shown_unit)} from the base, production-based "
                  f"(red: more, green: less)")
    rel = f" ({100 * change / base_total:+.3f} %)" if base_total else ""
    # The totals in the declared unit while it reads well (10,000 Mt, not 10.0 Gt beside a 2.66 Mt change).
    f0, base_u = (1.0, unit) if 1 <= abs(base_total) < 1e6 else scale_for([base_total], unit)
    head = result.name + (f": {result.description}" if result.description else "")
    line = (f"{name}: base {number(base_total * f0)} {base_u} → scenario {number((base_total + change) * f0)} "
            f"{base_u}, change {number(net, sign=True)} {shown_unit}{rel}")
    _title(ax, [head, line], 9.5)
    return ax


# --- supply-chain paths ---------------------------------------------------------------------

def spa_tree(result, top: int = 15, ax=None, path=None):
    """The `top` paths of a structural path analysis as a tree: final products on the left,
    their suppliers tier by tier to the right.

    Paths that share a final product and first suppliers share boxes; a box says region,
    sector (wrapped, never cut) and the sum of the drawn paths through it with its share of
    the total; edges run from box to box with widths proportional to the value. Saves to
    `path` (PNG, SVG or PDF by extension) when given. Returns the Axes.
    """
    from matplotlib.patches import FancyBboxPatch, PathPatch
    from matplotlib.path import Path

    df = result.paths.head(int(top))
    if df.empty:
        raise ValueError("the result has no paths to plot (lower tau or check the demand)")
    value: dict[tuple, float] = {}
    children: dict[tuple, list] = {(): []}
    for p, v in zip(df["path"], df["value"]):
        chain = tuple(reversed(p))  # final product first
        for d in range(1, len(chain) + 1):
            key = chain[:d]
            if key not in value:
                value[key] = 0.0
                children.setdefault(chain[:d - 1], []).append(key)
                children[key] = []
            value[key] += v
    ypos: dict[tuple, float] = {}
    rows = [0]

    def place(node):
        kids = sorted(children[node], key=lambda k: -abs(value[k]))
        if not kids:
            ypos[node] = rows[0]
            rows[0] += 1
            return
        for k in kids:
            place(k)
        ypos[node] = float(np.mean([ypos[k] for k in kids]))

    for root in sorted(children[()], key=lambda k: -abs(value[k])):
        place(root)
    depth = max(len(k) for k in value)
    factor, unit = scale_for([abs(v) for v in value.values()], result.unit)
    ax = _new_axes(ax, (3.3 * depth + 0.8, 0.78 * rows[0] + 1.6))
    bw, bh = 0.78, 0.86  # box width (of a column) and height (of a row), data units
    vmax = max(abs(v) for v in value.values())
    for node, v in value.items():  # edges first: boxes are drawn over their ends
        if len(node) < 2:
            continue
        x0, y0 = len(node) - 2 + bw / 2, ypos[node[:-1]]
        x1, y1 = len(node) - 1 - bw / 2, ypos[node]
        xm = (x0 + x1) / 2
        curve = Path([(x0, y0), (xm, y0), (xm, y1), (x1, y1)], [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
        ax.add_patch(PathPatch(curve, facecolor="none", edgecolor="tab:red", alpha=0.55,
                               lw=0.8 + 7 * abs(v) / vmax, capstyle="butt", zorder=1))
    for node, v in value.items():
        x, y = len(node) - 1, ypos[node]
        region, sector = node[-1]
        ax.add_patch(FancyBboxPatch((x - bw / 2, y - bh / 2), bw, bh, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc="white", ec="0.45", lw=0.7, zorder=2))
        sector_text = textwrap.fill(str(sector), 38, break_on_hyphens=False, break_long_words=False)
        ax.text(x, y, f"{region}\n{sector_text}\n{number(v * factor)} {unit} ({100 * v / result.total:.1f} %)",
                ha="center", va="center", fontsize=7, zorder=3, linespacing=1.15)
    ax.set_xlim(-0.5, depth - 0.5)
    ax.set_ylim(rows[0] - 0.5, -0.5)
    ax.set_xticks(range(depth), ["final product"] + [f"tier {t} supplier" for t in range(1, depth)])
    ax.xaxis.set_ticks_position("top")
    ax.tick_params(axis="x", length=0)
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    total_v = result.total * factor
    _title(ax, [f"Top {len(df)} supply-chain paths of {result.stressor} for {result.demand}",
                f"total {number(total_v)} {unit}; the drawn paths cover {100 * df['value'].sum() / result.total:.1f} %"],
           9, pad=22)
    if path is not None:
        ax.figure.savefig(path, dpi=150)
    return ax
