"""Make the plot gallery: docs/gallery/*.png and docs/gallery/README.md (each figure with its code).

    .venv/bin/python docs/gallery/make_gallery.py

Every figure comes from a function below; README.md shows the function's body, so the code
next to a figure is the code that made it. Data: the shipped REAL demo (China 2018, NBS 153
sectors, CEADs Scope-1 CO2), the synthetic 31-province system (real names, SYNTHETIC numbers)
for what needs several regions, and the seed scenario files in datasets/scenarios/.
"""

from __future__ import annotations

import inspect
import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import mriotrace  # noqa: E402
from mriotrace import plot, tracing  # noqa: E402

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parents[1] / "datasets" / "scenarios"
DPI = 110


@lru_cache(maxsize=None)
def demo():
    return mriotrace.datasets.china_demo().calc_all()


@lru_cache(maxsize=None)
def synthetic():
    return mriotrace.datasets.china_synthetic().calc_all()


@lru_cache(maxsize=None)
def results(name: str):
    """Every scenario of a seed file, by name, run on the file's base system."""
    f = mriotrace.read_scenarios(SCENARIOS / name)
    return {r.name: r for r in f.run()}


def footprint_pba_cba():
    """Production-based (where it is emitted) vs consumption-based (which product's final use causes it)
    CO2 of the 12 largest sectors of the REAL demo; "other" sums the rest, and the
    households' own fuel use has its own bar."""
    return plot.footprint(demo(), "CO2", by="sector", account="both", top=12)


def footprint_products_by_category():
    """Consumption-based CO2 of the 12 largest final products of the REAL demo, split by the
    final-demand category that buys them (capital formation, exports, households, ...)."""
    return plot.footprint(demo(), "CO2", by="sector", stack="category", top=12, top_segments=6)


def footprint_categories():
    """Consumption-based CO2 of the REAL demo by final-demand category, split by the 6 largest
    products; households' own fuel use (direct emissions of final demand) is a segment of its own."""
    return plot.footprint(demo(), "CO2", by="category", stack="sector", top_segments=6)


def footprint_regions():
    """Consumption-based CO2 of the 12 largest provinces (SYNTHETIC numbers), split by product."""
    return plot.footprint(synthetic(), "CO2", by="region", stack="sector", top=12, top_segments=6,
                          title="China 31 provinces (SYNTHETIC numbers)")


def flows_regions():
    """Where CO2 is emitted (left) and whose final demand it serves (right), 8 largest provinces
    (SYNTHETIC numbers); pale bands stay in their province, dark bands cross provinces."""
    return plot.flows(synthetic(), "CO2", top=8, title="China 31 provinces (SYNTHETIC numbers)")


def waterfall_steel_chemical():
    """datasets/scenarios/national/steel_chemical.toml on the REAL demo: the change of
    production-based CO2 by sector."""
    res = results("national/steel_chemical.toml")["china-steel-chemical"]
    return plot.waterfall(res, "CO2", by="sector", top=8)


def waterfall_relocation():
    """datasets/scenarios/jilin_nonferrous_relocation.toml (SYNTHETIC system): 300 kt of aluminium
    moves from Jilin to Qinghai; the change by province, then the net change."""
    res = results("jilin_nonferrous_relocation.toml")["jilin-aluminium-300kt"]
    return plot.waterfall(res, "CO2", by="region", top=8)


def waterfall_refining_complex():
    """datasets/scenarios/zhejiang_refining_chemical.toml (SYNTHETIC system): the integrated complex
    split off as a new sector; the change by (province, sector) with full labels."""
    res = results("zhejiang_refining_chemical.toml")["zhejiang-refining-chemical-complex"]
    return plot.waterfall(res, "CO2", by="region_sector", top=8)


def spa_tree_demo():
    """The 14 largest supply-chain paths of the CO2 in China's final demand for construction
    (REAL demo): final products left, suppliers tier by tier to the right."""
    res = tracing.spa(demo(), "CO2", product=("China", "Construction of residential houses"), tau=1e-3)
    return plot.spa_tree(res, top=14)


FIGURES = [footprint_pba_cba, footprint_products_by_category, footprint_categories, footprint_regions,
           flows_regions, waterfall_steel_chemical, waterfall_relocation, waterfall_refining_complex,
           spa_tree_demo]


def body(fn) -> str:
    """The code of a figure function without its def line and docstring."""
    lines = inspect.getsource(fn).splitlines()[1:]
    text = textwrap.dedent("\n".join(lines))
    doc = inspect.getdoc(fn) or ""
    end = text.find('"""', 3) + 3 if text.startswith('"""') else 0
    return text[end:].strip().replace("return ", "ax = ") if doc else text


def main() -> None:
    parts = ["# Plot gallery", "",
             "Made by `docs/gallery/make_gallery.py` (`.venv/bin/python docs/gallery/make_gallery.py`) with "
             "`mriotrace.plot` (API: [python-api.md](../python-api.md#plots)). Helpers in the script: `demo()` = "
             "`mriotrace.datasets.china_demo().calc_all()` (REAL data), `synthetic()` = "
             "`mriotrace.datasets.china_synthetic().calc_all()` (SYNTHETIC numbers), `results(file)` = the "
             "seed file's scenarios run on its base (`mriotrace.read_scenarios(file).run()`, by name).", ""]
    for fn in FIGURES:
        ax = fn()
        name = fn.__name__ + ".png"
        ax.figure.savefig(HERE / name, dpi=DPI)
        plt.close(ax.figure)
        parts += [f"## {fn.__name__.replace('_', ' ')}", "", " ".join((inspect.getdoc(fn) or "").split()), "",
                  "```python", body(fn), "```", "", f"![{fn.__name__}]({name})", ""]
        print(f"wrote {HERE / name} ({(HERE / name).stat().st_size / 1024:.0f} kB)")
    (HERE / "README.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {HERE / 'README.md'}")


if __name__ == "__main__":
    main()
