"""concordance.aggregate on systems read by the native global readers (EXIOBASE 3, WIOD 2016 fixtures)."""

from __future__ import annotations

import numpy as np
import pytest

import mriotrace
from mriotrace.concordance import aggregate
import exiobase_fixture as ef
import wiod_fixture as wf

REGIONS = {"AUS": "OECD", "DEU": "OECD", "CHN": "non-OECD", "ROW": "non-OECD"}
SECTORS = {"A01": "Agriculture", "A02": "Agriculture", "A03": "Agriculture", "B": "Industry", "C10-C12": "Industry",
           "C19": "Industry", "D35": "Industry", "H49": "Services"}


@pytest.fixture(scope="module")
def wiod(tmp_path_factory):
    d = tmp_path_factory.mktemp("wiod_agg")
    wf.write_wiot(d / "WIOT2014_Nov16_ROW.xlsx")
    wf.write_env(d / "co2.xlsx", wf.make_env())
    return mriotrace.readers.read_wiod2016(d / "WIOT2014_Nov16_ROW.xlsx", env={"CO2": (d / "co2.xlsx", "kt")})


@pytest.fixture(scope="module")
def exio(tmp_path_factory):
    d = tmp_path_factory.mktemp("exio_agg")
    return mriotrace.read_exiobase3(ef.write_exiobase3(d, regions=("AT", "BE", "CN", "US"), sectors=5))


def _group_sum(df, mapping, level):
    """Columns of `df` (region, x) summed by the new names of `level` (the aggregated accounts)."""
    keys = df.columns.get_level_values(level).map(lambda k: mapping.get(k, k))
    other = df.columns.get_level_values(1 - level)
    return df.T.groupby([keys, other] if level == 0 else [other, keys], sort=False).sum().T


def test_wiod_labels_extensions_units_kept(wiod):
    a = aggregate(wiod, regions=REGIONS, sectors=SECTORS)
    assert list(a.get_regions()) == ["OECD", "non-OECD"]
    assert list(a.get_sectors()) == ["Agriculture", "Industry", "Services"]
    assert list(a.get_Y_categories()) == list(wiod.get_Y_categories())
    assert a.monetary_unit == "millions of US$"
    assert [e for e in a.extensions_instance_names if e != "value_added"] == ["factor_inputs", "env"]
    assert list(a.env.unit["unit"]) == ["kt"]
    assert list(a.factor_inputs.get_rows()) == list(wiod.factor_inputs.get_rows())
    assert set(a.factor_inputs.unit["unit"]) == {"millions of US$"}


def test_wiod_totals_and_accounts(wiod):
    a = aggregate(wiod, regions=REGIONS, sectors=SECTORS)
    x, xa = wiod.x.to_numpy().sum(), a.x.to_numpy().sum()
    assert xa == pytest.approx(x, rel=1e-13)
    assert a.Z_sparse.sum() == pytest.approx(wiod.Z_sparse.sum(), rel=1e-13)
    assert a.Y.to_numpy().sum() == pytest.approx(wiod.Y.to_numpy().sum(), rel=1e-13)
    assert a.v.to_numpy().sum() == pytest.approx(wiod.v.to_numpy().sum(), rel=1e-12)
    # column identity of the aggregate: Z'1 + v = x, as in the table
    np.testing.assert_allclose(a.Z_sparse.sum(axis=0) + a.v.to_numpy().ravel(), a.x.to_numpy()[:, 0], rtol=1e-12)
    for ext in ("env", "factor_inputs"):
        F, Fa = getattr(wiod, ext).F, getattr(a, ext).F
        np.testing.assert_allclose(Fa.to_numpy(), _group_sum(_group_sum(F, REGIONS, 0), SECTORS, 1)
                                   .reindex(columns=Fa.columns).to_numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(getattr(a, ext).F_Y.to_numpy(),
                                   _group_sum(getattr(wiod, ext).F_Y, REGIONS, 0).to_numpy(), rtol=1e-12, atol=1e-12)
    wiod.calc_all()
    a.calc_all()
    # production-based accounts of the aggregate = the aggregated production-based accounts (exact)
    pba = wiod.env.D_pba_reg.T.groupby(lambda r: REGIONS[r], sort=False).sum().T
    np.testing.assert_allclose(a.env.D_pba_reg.to_numpy(), pba.reindex(columns=a.env.D_pba_reg.columns).to_numpy(),
                               rtol=1e-12)
    # consumption-based: the world total is kept; by region they differ (aggregation bias), not identical
    assert a.env.D_cba_reg.to_numpy().sum() == pytest.approx(wiod.env.D_cba_reg.to_numpy().sum(), rel=1e-9)
    cba = wiod.env.D_cba_reg.T.groupby(lambda r: REGIONS[r], sort=False).sum().T
    assert not np.allclose(a.env.D_cba_reg.to_numpy(), cba.reindex(columns=a.env.D_cba_reg.columns).to_numpy(),
                           rtol=1e-9)


def test_regions_only_keeps_consumption_accounts_of_a_one_to_one_map(wiod):
    # a renaming (one-to-one) changes nothing: every account equal to the original's
    a = aggregate(wiod, regions={r: r.lower() for r in wiod.get_regions()})
    wiod.calc_all()
    a.calc_all()
    np.testing.assert_allclose(a.env.D_cba_reg.to_numpy(), wiod.env.D_cba_reg.to_numpy(), rtol=1e-10)


def test_exiobase_aggregate(exio):
    regions = {"AT": "EU", "BE": "EU", "CN": "CN", "US": "US"}
    a = aggregate(exio, regions=regions)
    assert list(a.get_regions()) == ["EU", "CN", "US"] and list(a.get_sectors()) == list(exio.get_sectors())
    assert a.extensions_instance_names == exio.extensions_instance_names
    assert a.impacts.get_rows().name == "impact"
    assert list(a.impacts.unit["unit"]) == list(exio.impacts.unit["unit"])
    assert a.monetary_unit == exio.monetary_unit
    assert a.x.to_numpy().sum() == pytest.approx(exio.x.to_numpy().sum(), rel=1e-13)
    exio.calc_all()
    a.calc_all()
    for ext in ("satellite", "impacts"):
        pba = getattr(exio, ext).D_pba_reg.T.groupby(lambda r: regions[r], sort=False).sum().T
        # 1e-7: the fixture's text files balance x = Z1 + Y1 only to their printed digits, and the
        # accounts use the solved outputs
        np.testing.assert_allclose(getattr(a, ext).D_pba_reg.to_numpy(), pba.to_numpy(), rtol=1e-7)
        total = getattr(exio, ext).D_cba_reg.to_numpy().sum(axis=1)
        np.testing.assert_allclose(getattr(a, ext).D_cba_reg.to_numpy().sum(axis=1), total, rtol=1e-7)  # as above
