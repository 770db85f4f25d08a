"""mriotrace.plot under the Agg backend: the artists, not the pixels. Every plot has one bar per
item (the top ones and one "other"), full (wrapped, never cut) labels, the value on every bar,
the unit on an axis, and bars that add up to the accounts they show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch, PathPatch, Rectangle  # noqa: E402

import mriotrace  # noqa: E402
from mriotrace import plot, tracing  # noqa: E402
from mriotrace.units import number  # noqa: E402

LONG = "Manufacture of communication equipment, computers and other electronic equipment"


@pytest.fixture(scope="module")
def system():
    """4 regions x 6 sectors, one sector with a long NBS name, accounts calculated."""
    g = mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=2, seed=21,
                                    domestic_density=0.9, trade_density=0.5)
    core = g.core
    sectors = list(g.sectors)
    sectors[2] = LONG
    s = mriotrace.MRIOSystem.from_arrays(
        list(g.regions), sectors, list(g.Y_categories), A=g.A_sparse, x=np.asarray(core.x), Y=np.asarray(core.Y),
        v=np.asarray(core.v), monetary_unit="10^4 CNY",
        extensions={"stressors": {"S": np.asarray(core.S), "F_Y": np.asarray(core.F_Y),
                                  "stressors": ["CO2", "Energy"], "unit": ["Mt CO2", "Mtce"]}})
    return s.calc_all()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def labels_of(ax, axis="y"):
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text().replace("\n", " ") for t in ticks]


def bar_patches(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_footprint_by_region_one_bar_per_region_with_values_and_unit(system):
    ax = plot.footprint(system, "CO2", by="region")
    cba = system.stressors.D_cba_reg.loc["CO2"].sort_values(ascending=False)
    assert labels_of(ax) == list(cba.index)  # sorted, largest first (the axis is inverted)
    bars = bar_patches(ax)
    assert len(bars) == len(cba)
    np.testing.assert_allclose(sorted(b.get_width() for b in bars), sorted(cba.to_numpy()), rtol=1e-12)
    for v in cba:
        assert number(v) in texts(ax)
    assert "CO2 [Mt CO2]" in ax.get_xlabel() and "consumption-based" in ax.get_xlabel()


def test_footprint_other_bucket_keeps_the_total(system):
    ax = plot.footprint(system, "CO2", by="region", top=2)
    cba = system.stressors.D_cba_reg.loc["CO2"].sort_values(ascending=False)
    assert labels_of(ax) == list(cba.index[:2]) + ["other (2 more)"]
    widths = [b.get_width() for b in bar_patches(ax)]
    assert widths[2] == pytest.approx(cba.iloc[2:].sum(), rel=1e-12)
    assert sum(widths) == pytest.approx(cba.sum(), rel=1e-12)


def test_footprint_stacked_by_sector_adds_up_to_the_regional_account(system):
    ax = plot.footprint(system, "CO2", by="region", stack="sector", top_segments=3)
    cba = system.stressors.D_cba_reg.loc["CO2"]
    regions = labels_of(ax)
    totals = dict.fromkeys(regions, 0.0)
    for b in bar_patches(ax):
        totals[regions[round(b.get_y() + b.get_height() / 2)]] += b.get_width()
    for r in regions:
        assert totals[r] == pytest.approx(cba[r], rel=1e-10)
    legend = [t.get_text().replace("\n", " ") for t in ax.get_legend().get_texts()]
    assert "other (3 more)" in legend and "direct emissions of final demand" in legend
    assert len(legend) == 5  # 3 sectors, other, direct


def test_footprint_by_sector_and_category_match_the_accounts(system):
    cba_total = system.stressors.D_cba_reg.loc["CO2"].sum()
    ax = plot.footprint(system, "CO2", by="sector", top=20)
    widths = [b.get_width() for b in bar_patches(ax)]
    assert len(widths) == 7  # six products and the households' own emissions
    assert sum(widths) == pytest.approx(cba_total, rel=1e-10)
    assert LONG in labels_of(ax)  # wrapped, not cut
    by_product = mriotrace.footprint_by_product(system, "stressors").loc["CO2"].groupby(level="sector").sum()
    for name, v in by_product.items():
        assert number(v) in texts(ax)
    ax = plot.footprint(system, "CO2", by="category")
    by_cat = mriotrace.footprint_by_category(system, "stressors").loc["CO2"].groupby(level="category").sum()
    got = dict(zip(labels_of(ax), [b.get_width() for b in bar_patches(ax)]))
    for cat, v in by_cat.items():
        assert got[cat] == pytest.approx(v, rel=1e-10)


def test_footprint_both_accounts_side_by_side(system):
    ax = plot.footprint(system, "Energy", by="region", account="both")
    pba, cba = (system.stressors.D_pba_reg.loc["Energy"], system.stressors.D_cba_reg.loc["Energy"])
    factor = 1.0 if 1 <= max(pba.max(), cba.max()) < 1e4 else None
    widths = sorted(b.get_width() for b in bar_patches(ax))
    assert len(widths) == 8
    if factor:
        np.testing.assert_allclose(widths, sorted(list(pba) + list(cba)), rtol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["production-based", "consumption-based"]
    assert len(ax.texts) == 8 and sum(len(c.datavalues) for c in ax.containers) == 8  # a value on all 8 bars


def test_footprint_bad_arguments_name_the_choice(system):
    with pytest.raises(ValueError, match="no final-demand category"):
        plot.footprint(system, "CO2", by="category", account="pba")
    with pytest.raises(ValueError, match="unknown stressor 'CH4'"):
        plot.footprint(system, "CH4")
    with pytest.raises(ValueError, match="stack"):
        plot.footprint(system, "CO2", by="region", stack="region")


def test_readable_magnitude_on_the_axis(system):
    ax = plot.footprint(system, "CO2", by="region")
    vmax = system.stressors.D_cba_reg.loc["CO2"].max()
    unit = mriotrace.units.scale_for([vmax], "Mt CO2")[1]
    assert f"[{unit}]" in ax.get_xlabel()
    assert mriotrace.units.scale_for([2e-6], "Mt CO2") == pytest.approx((1e6, "t CO2"))
    assert mriotrace.units.scale_for([9621.0], "Mt CO2") == (1.0, "Mt CO2")


def test_flows_sankey_bands_are_the_flows(system):
    ax = plot.flows(system, "CO2", top=2)
    Q = system.stressors.Q_array[0]
    bands = [p for p in ax.patches if isinstance(p, PathPatch)]
    nodes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(nodes) == 6  # 2 regions and "other regions", on both sides
    assert len(bands) == 9 and (Q > 0).all()  # the two "other" regions' four flows become one band
    left = [n for n in nodes if n.get_x() == 0]
    assert sum(n.get_height() for n in left) == pytest.approx(Q.sum(), rel=1e-12)
    names = " ".join(texts(ax))
    assert "other regions (2)" in names
    biggest = system.regions[int(np.argmax(np.maximum(Q.sum(axis=1), Q.sum(axis=0))))]
    assert f"{biggest}  {number(Q[list(system.regions).index(biggest)].sum())}" in texts(ax)
    assert "[Mt CO2]" in " ".join(labels_of(ax, "x"))
    one = mriotrace.datasets.generate(regions=1, sectors=3)
    with pytest.raises(ValueError, match="at least 2 regions"):
        plot.flows(one, "stressor0")


def test_waterfall_full_labels_values_and_net(system):
    sc = mriotrace.Scenario("long labels", "d").relocate(LONG, system.regions[0], system.regions[1], share=0.5)
    res = mriotrace.run_scenarios(system, [sc])[0]
    ax = plot.waterfall(res, "CO2", by="region_sector", top=4)
    labels = labels_of(ax)
    assert labels[-1] == "net change" and len(labels) == 6  # 4, other, net
    assert any(label == f"{system.regions[0]} | {LONG}" for label in labels)  # whole, wrapped
    dF = res.dF.loc["CO2"]
    top = dF[dF != 0].abs().sort_values(ascending=False).index[:4]
    values = texts(ax)
    assert len(values) == len(labels)  # every bar carries its value
    for key in top:
        assert number(dF[key], sign=True) in values
    assert values[-1] == number(res.summary.loc["CO2", "dpba"], sign=True)
    assert "[Mt CO2]" in ax.get_xlabel() or "t CO2]" in ax.get_xlabel()
    assert ax is res.waterfall("CO2", by="region_sector", top=4, ax=ax)  # the thin method draws into ax


def test_waterfall_small_steps_stay_visible(system):
    sc = mriotrace.Scenario("small").relocate(LONG, system.regions[0], system.regions[1], share=0.5)
    res = mriotrace.run_scenarios(system, [sc])[0]
    ax = plot.waterfall(res, "CO2", by="region_sector", top=20)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    span = max(abs(v) for b in bars for v in (b.get_x(), b.get_x() + b.get_width()))
    tiny = [b for b in bars if abs(b.get_width()) < 0.004 * span]
    markers = [line for line in ax.lines if line.get_marker() == "|"]
    assert tiny and len(markers) == len(tiny)  # each one too thin to see gets a marker


def test_pymrio_rows_and_flat_names():
    pymrio = pytest.importorskip("pymrio")
    s = mriotrace.from_pymrio(pymrio.load_test())
    ax = plot.footprint(s, "emissions::emission_type1/air", by="region")  # the flat name, decoded
    cba = s.emissions.D_cba_reg.loc[("emission_type1", "air")]  # in kg: up to 8.2e8 kg, shown in kt
    assert s.emissions.unit.loc[("emission_type1", "air"), "unit"] == "kg" and 1e8 < cba.max() < 1e9
    assert ax.get_xlabel().startswith("emission_type1 / air [kt]")
    same = plot.footprint(s, ("emission_type1", "air"), by="region")
    assert [b.get_width() for b in bar_patches(ax)] == [b.get_width() for b in bar_patches(same)]
    np.testing.assert_allclose(sorted(b.get_width() for b in bar_patches(ax)), sorted(cba * 1e-6), rtol=1e-12)
    total = s.emissions.F.loc[("emission_type1", "air")].sum() + s.emissions.F_Y.loc[("emission_type1", "air")].sum()
    assert f"emission_type1 / air [Mt]: {number(total * 1e-9)} emitted in total" in s.report(top=3)  # kg -> Mt


def test_spa_tree_boxes_and_edges_meet(system):
    res = tracing.spa(system, "CO2", tau=1e-3, max_depth=3)
    ax = plot.spa_tree(res, top=8)
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    edges = [p for p in ax.patches if isinstance(p, PathPatch) and not isinstance(p, FancyBboxPatch)]
    assert boxes and len(edges) == len(boxes) - len({p[-1] for p in res.paths.head(8)["path"]})
    lefts = {round(b.get_x(), 9) for b in boxes}
    rights = {round(b.get_x() + b.get_width(), 9) for b in boxes}
    for e in edges:
        v = e.get_path().vertices
        assert round(v[0, 0], 9) in rights and round(v[-1, 0], 9) in lefts  # from box edge to box edge
    joined = "\n".join(texts(ax)).replace("\n", " ")
    assert LONG in joined or all(LONG not in str(p) for p in res.paths.head(8)["path"])
    assert "…" not in joined and "..." not in joined
    fig = res.plot(top=8)  # the old entry point: the Figure
    assert fig is not None and fig.axes


def test_every_plot_draws_into_a_given_axes(system):
    fig, axes = plt.subplots(1, 2)
    assert plot.footprint(system, "CO2", ax=axes[0]) is axes[0]
    assert plot.flows(system, "CO2", ax=axes[1]) is axes[1]
    assert system.plot_footprint("CO2", by="sector").get_ylabel() == "product bought by final demand"
    assert isinstance(system.plot_flows("CO2").figure, matplotlib.figure.Figure)
    pd.testing.assert_index_equal(system.regions, pd.Index(system.regions))
