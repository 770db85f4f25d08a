"""characterize(system, table): stressors -> impacts, checked against EXIOBASE's own impacts/.

The fixture's impacts/ are C x satellite (as EXIOBASE computes them), printed
to 8 digits; characterising the satellite with the same C must reproduce them
and their accounts to that rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mriotrace
from conftest import assert_close
from exiobase_fixture import characterisation_factors, write_exiobase3


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_exiobase3(tmp_path_factory.mktemp("exio_char"), stressors=6, impacts=3, impacts_from_satellite=True,
                           with_A=False, with_S=False)


def test_matches_exiobase_impacts(release):
    system = mriotrace.read_exiobase3(release)
    sat_rows, imp_rows = list(system.satellite.get_rows()), list(system.impacts.get_rows())
    C = characterisation_factors(sat_rows, imp_rows)
    C["unit"] = list(system.impacts.unit["unit"])
    out = mriotrace.characterize(system, C, name="gwp")
    new, ref = out.gwp, out.impacts
    assert list(new.get_rows()) == imp_rows and list(new.unit["unit"]) == list(ref.unit["unit"])
    assert_close(new.F.to_numpy(), ref.F.to_numpy(), rtol=1e-7, what="F")
    assert_close(new.F_Y.to_numpy(), ref.F_Y.to_numpy(), rtol=1e-7, what="F_Y")
    out.calc_all()
    assert_close(new.D_cba_reg.to_numpy(), ref.D_cba_reg.to_numpy(), rtol=1e-7, what="D_cba_reg")
    assert_close(new.D_pba_reg.to_numpy(), ref.D_pba_reg.to_numpy(), rtol=1e-7, what="D_pba_reg")
    # Exactly linear: the new rows are C times the satellite's accounts.
    Cn = C.drop(columns="unit").to_numpy()
    assert_close(new.D_cba.to_numpy(), Cn @ out.satellite.D_cba.to_numpy(), rtol=1e-12, what="C D_cba")
    # The original extensions are untouched.
    np.testing.assert_array_equal(out.satellite.F.to_numpy(), system.satellite.F.to_numpy())


def test_long_table_with_units(release):
    system = mriotrace.read_exiobase3(release, impacts=False)
    rows = list(system.satellite.get_rows())
    units = dict(zip(rows, system.satellite.unit["unit"]))
    long = pd.DataFrame({"impact": ["GWP100", "GWP100", "Jobs"], "stressor": [rows[0], rows[3], rows[1]],
                         "factor": [2.0, 0.5, 1.0], "impact_unit": ["kg CO2 eq.", "kg CO2 eq.", "p"],
                         "stressor_unit": [units[rows[0]], units[rows[3]], units[rows[1]]]})
    out = mriotrace.characterize(system, long)
    F = system.satellite.F.to_numpy()
    np.testing.assert_allclose(out.characterized.F.to_numpy(), [2.0 * F[0] + 0.5 * F[3], F[1]], rtol=1e-14)
    assert list(out.characterized.unit["unit"]) == ["kg CO2 eq.", "p"]
    bad = long.assign(stressor_unit=["t", "t", "t"])
    with pytest.raises(ValueError, match="is per 't'"):
        mriotrace.characterize(system, bad)
    with pytest.raises(ValueError, match="not rows of extension"):
        mriotrace.characterize(system, long.assign(stressor=["nope"] * 3), extension="satellite")
    with pytest.raises(ValueError, match="already a stressor"):
        mriotrace.characterize(out, long, name="characterized")
