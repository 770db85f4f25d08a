"""Units of MRIO tables and scenarios: one pint registry with the units planners use.

Monetary (CNY, "10^4 CNY", "10^8 CNY", USD, "M.USD"), energy (tce, kgce, Mtce,
J and its multiples: GJ, PJ) and mass (t, kt, Mt, kg, "kg CO2e", "Mt CO2"). A
unit label may carry a substance and a note after the unit ("Mt CO2
(synthetic)"): the substance must match in a conversion, the note is ignored.

    from mriotrace import units
    units.convert(1.9e-6, "Mt CO2", "t CO2")          # 1.9
    units.convert(1.0, "Mtce", "PJ")                  # 29.3076 (1 tce = 29.3076 GJ)
    units.readable(1.9e-6, "Mt CO2 (synthetic)")       # (1.9, "t CO2 (synthetic)"), as the reports print
    units.convert(1.0, "Mt CO2", "PJ")                # ValueError naming both units

Exchange rates are not physical constants: CNY and USD are separate
dimensions; convert between them with your own rate.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import _core

__all__ = ["registry", "parse", "convert", "readable"]


@lru_cache(maxsize=1)
def registry():
    """The pint UnitRegistry with tce, CNY and USD defined."""
    import pint

    ureg = pint.UnitRegistry()
    ureg.define("tonne_coal_equivalent = 29.3076 * gigajoule = tce")  # GB/T 2589: 1 kgce = 29.3076 MJ
    ureg.define("kgce = 1e-3 * tce")
    ureg.define("ktce = 1e3 * tce")
    ureg.define("Mtce = 1e6 * tce")
    ureg.define("yuan = [currency_cny] = CNY")
    ureg.define("us_dollar = [currency_usd] = USD")
    return ureg


_SUBSTANCE = re.compile(r"^(CO2e?|CH4|N2O|SO2|NOx|PM2\.5|H2O)$")


def parse(unit: str):
    """(pint Quantity of 1 `unit`, substance) for a unit label, e.g. "10^4 CNY" -> (1e4 CNY, "");
    "Mt CO2 (synthetic)" -> (1 Mt, "CO2"). Raises ValueError naming the label when it is not a unit."""
    ureg = registry()
    text = re.sub(r"\s*\(.*\)\s*$", "", unit.strip())  # a trailing note: "(synthetic)"
    words = text.split()
    substance = ""
    if len(words) > 1 and _SUBSTANCE.match(words[-1]):
        substance = words.pop()
    factor = 1.0
    if words and re.fullmatch(r"10\^-?\d+", words[0]):
        factor = 10.0 ** int(words.pop(0)[3:])
    symbol = " ".join(words).replace("M.", "mega").replace("k.", "kilo").replace("bn.", "giga")
    symbol = {"t": "tonne", "kt": "kilotonne", "Mt": "megatonne", "Gt": "gigatonne"}.get(symbol, symbol)
    try:
        q = ureg.Quantity(factor, symbol) if symbol else None
    except Exception as e:  # pint's UndefinedUnitError and parse errors
        raise ValueError(f"unit {unit!r} is not a known unit ({e})") from None
    if q is None:
        raise ValueError(f"unit {unit!r} is empty; expected e.g. 'Mt CO2', 'tce', '10^4 CNY'")
    return q, substance


def convert(value, from_unit: str, to_unit: str):
    """`value` in `from_unit` expressed in `to_unit`. Mismatched units (different dimensions
    or substances) are a ValueError naming both."""
    a, sa = parse(from_unit)
    b, sb = parse(to_unit)
    if sa != sb or a.dimensionality != b.dimensionality:
        raise ValueError(f"units {from_unit!r} and {to_unit!r} do not match: "
                         f"{a.dimensionality}{' ' + sa if sa else ''} vs {b.dimensionality}{' ' + sb if sb else ''}")
    return value * float((a / b).to_base_units().magnitude)


def readable(value: float, unit: str) -> tuple[float, str]:
    """(value, unit) at a readable magnitude within the unit's family, as the reports print it."""
    return _core.readable(float(value), unit)
