"""Readers declare units, reports pick readable magnitudes from them, and a scenario file whose
declared units differ from the system's is an error naming both (issue 14, units)."""

from __future__ import annotations

import numpy as np
import pytest

import mriotrace
from mriotrace import units
from mriotrace.readers import ceads, nbs
from ceads_mrio_fixture import write_ceads_mrio
from conftest import data_dir, require_data


@pytest.fixture(scope="module")
def demo():
    return mriotrace.datasets.china_demo()


def test_shipped_real_system_has_the_readers_units(demo):
    assert demo.monetary_unit == nbs.MONETARY_UNIT == "10^4 CNY"
    assert demo.stressors.unit.loc["CO2", "unit"] == ceads.UNIT == "Mt CO2"


def test_chinese_readers_declare_units_on_what_they_return(tmp_path):
    table = nbs.read_nbs(require_data("china/nbs/china_2018_153.csv"))
    assert table.monetary_unit == "10^4 CNY"
    inv = mriotrace.readers.read_ceads_inventory(require_data("china/ceads/national_1997-2019.xlsx"), "2018")
    assert inv.unit == "Mt CO2"
    system = mriotrace.datasets.china_national(2018, 153, data_dir=data_dir())
    assert system.monetary_unit == "10^4 CNY" and list(system.co2.unit["unit"]) == ["Mt CO2"]
    path = tmp_path / "mrio.xlsx"
    write_ceads_mrio(path, provinces=3, sectors=42, co2_row=True)
    mrio = mriotrace.readers.read_ceads_mrio(path).to_system()
    assert mrio.monetary_unit == "10^4 CNY" and list(mrio.co2.unit["unit"]) == ["Mt CO2"]


def test_intensity_reads_in_t_or_kg_co2_per_10k_cny(demo):
    sc = mriotrace.Scenario("none").scale("Y", 1.0).target("CO2/VA", -0.18, region="China", basis="GDP")
    res = mriotrace.run_scenarios(demo, [sc])[0]
    t = res.targets.iloc[0]
    assert t["intensity_unit"] == "Mt CO2 per 10^4 CNY" and t["base"] == pytest.approx(9.961e-7, rel=1e-3)
    value, unit = units.readable(t["base"], "Mt CO2")
    assert unit == "kg CO2" and 1 <= value < 1000  # 996.1 kg CO2 per 10^4 CNY, not 9.961e-04 Mt
    assert f"base-year intensity {value:.4g} kg CO2 per 10^4 CNY" in res.report()
    assert units.readable(1.94e-6, "Mt CO2 (synthetic)") == pytest.approx((1.94, "t CO2 (synthetic)"))


def test_energy_as_published_in_10k_tce():
    assert units.convert(1.0, "10^4 tce", "Mtce") == pytest.approx(0.01)
    assert units.convert(2.5, "10^4 tce", "PJ") == pytest.approx(2.5e4 * 29.3076e-6)
    assert units.readable(3.0, "10^4 tce") == pytest.approx((30.0, "ktce"))  # read, never chosen
    assert units.readable(0.02, "10^4 tce") == pytest.approx((200.0, "tce"))
    assert units.readable(5e4, "tce") == pytest.approx((50.0, "ktce"))
    assert units.readable(7.0, "10^4 t CO2") == pytest.approx((70.0, "kt CO2"))
    with pytest.raises(ValueError, match="'10\\^4 tce'.*'Mt CO2'"):
        units.convert(1.0, "10^4 tce", "Mt CO2")


def test_mismatched_units_in_a_scenario_file_name_both(demo):
    def file(base_lines):
        return mriotrace.parse_scenarios(f'[base]\nsystem = "demo"\n{base_lines}\n[[scenario]]\nname = "s"\n'
                                         '[[scenario.operation]]\nkind = "scale"\nmatrix = "Y"\nfactor = 1.0\n',
                                         "units.toml")
    with pytest.raises(ValueError, match=r'stressor_units\["CO2"\] = "PJ" but the system\'s is "Mt CO2".*not '
                                         r'multiples'):
        file('stressor_units = {CO2 = "PJ"}').run(demo)
    with pytest.raises(ValueError, match=r'monetary_unit = "USD" but the system\'s is "10\^4 CNY"'):
        file('monetary_unit = "USD"').run(demo)
    with pytest.raises(ValueError, match=r'"t CO2" but the system\'s is "Mt CO2"; 1 t CO2 = 0.000001 Mt CO2'):
        file('stressor_units = {CO2 = "t CO2"}').run(demo)
    ok = file('monetary_unit = "10^4 CNY"\nstressor_units = {CO2 = "Mt CO2"}').run(demo)[0]
    assert ok.summary.loc["CO2", "dpba"] == 0


def test_useeio_units_parse_and_read_well():
    model = mriotrace.read_useeio(require_data("useeio/USEEIOv2.1.20-GHG"))
    system = model.system
    assert system.monetary_unit == "USD"
    labels = system.core.labels
    assert set(labels.stressor_units) <= {"kg", "kg CO2e"} and list(labels.indicator_units) == ["kg CO2 eq"]
    for unit in list(labels.stressor_units) + list(labels.indicator_units):
        q, substance = units.parse(unit)
        assert q.to("kg").magnitude == pytest.approx(1.0)
    assert units.parse("kg CO2 eq")[1] == "CO2 eq"
    assert units.readable(6.3e12, "kg CO2 eq") == pytest.approx((6.3, "Gt CO2 eq"))
    assert np.isfinite(units.convert(1.0, "kg CO2 eq", "Mt CO2 eq"))


def test_euro_tables_units_parse_convert_and_read_well():
    # EXIOBASE and FIGARO systems are labelled M.EUR (io/src/exiobase.cpp, figaro.cpp).
    assert units.convert(2.5, "M.EUR", "EUR") == pytest.approx(2.5e6)
    assert units.convert(1.0, "bn.EUR", "M.EUR") == pytest.approx(1e3)
    assert units.readable(3.2e7, "EUR") == pytest.approx((32.0, "M.EUR"))
    assert units.readable(4.5e-3, "M.EUR") == pytest.approx((4.5, "k.EUR"))
    # A currency is its own dimension: no silent exchange rate.
    with pytest.raises(ValueError, match="'M.EUR' and 'M.USD' do not match"):
        units.convert(1.0, "M.EUR", "M.USD")
