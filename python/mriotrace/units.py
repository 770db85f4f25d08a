"""Units of MRIO tables and scenarios: one pint registry with the units planners use.

Monetary (CNY, "10^4 CNY", "10^8 CNY", USD, "M.USD", EUR, "M.EUR"), energy (tce, kgce, Mtce,
J and its multiples: GJ, PJ) and mass (t, kt, Mt, kg, "kg CO2e", "Mt CO2"). A
unit label may carry a substance and a note after the unit ("Mt CO2
(synthetic)"): the substance must match in a conversion, the note is ignored.

    from mriotrace import units
    units.convert(1.9e-6, "Mt CO2", "t CO2")          # 1.9
    units.convert(1.0, "Mtce", "PJ")                  # 29.3076 (1 tce = 29.3076 GJ)
    units.readable(1.9e-6, "Mt CO2 (synthetic)")       # (1.9, "t CO2 (synthetic)"), as the reports print
    units.convert(1.0, "Mt CO2", "PJ")                # ValueError naming both units

Exchange rates are not physical constants: CNY, USD and EUR are separate
dimensions; convert between them with your own rate.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from . import _core

__all__ = ["registry", "parse", "convert", "readable", "scale_for", "number"]


@lru_cache(maxsize=1)
def registry():
    """The pint UnitRegistry with tce, CNY, USD and EUR defined."""
    import pint

    ureg = pint.UnitRegistry()
    ureg.define("tonne_coal_equivalent = 29.3076 * gigajoule = tce")  # GB/T 2589: 1 kgce = 29.3076 MJ
    ureg.define("kgce = 1e-3 * tce")
    ureg.define("ktce = 1e3 * tce")
    ureg.define("Mtce = 1e6 * tce")
    ureg.define("yuan = [currency_cny] = CNY")
    ureg.define("us_dollar = [currency_usd] = USD")
    ureg.define("euro = [currency_eur] = EUR")  # EXIOBASE and FIGARO: M.EUR
    return ureg


def parse(unit: str):
    """(pint Quantity of 1 `unit`, substance) for a unit label: the unit is the first word (after an
    optional power of ten), the substance the rest. "10^4 CNY" -> (1e4 CNY, ""); "Mt CO2 (synthetic)"
    -> (1 Mt, "CO2"); "kg CO2 eq" -> (1 kg, "CO2 eq"). Raises ValueError naming the label when it is
    not a unit."""
    ureg = registry()
    text = re.sub(r"\s*\(.*\)\s*$", "", unit.strip())  # a trailing note: "(synthetic)"
    words = text.split()
    factor = 1.0
    if words and re.fullmatch(r"10\^-?\d+", words[0]):
        factor = 10.0 ** int(words.pop(0)[3:])
    if not words:
        raise ValueError(f"unit {unit!r} is empty; expected e.g. 'Mt CO2', 'tce', '10^4 CNY'")

    def quantity(symbol):
        symbol = symbol.replace("M.", "mega").replace("k.", "kilo").replace("bn.", "giga")
        symbol = {"t": "tonne", "kt": "kilotonne", "Mt": "megatonne", "Gt": "gigatonne"}.get(symbol, symbol)
        return ureg.Quantity(factor, symbol)

    try:
        return quantity(words[0]), " ".join(words[1:])
    except Exception as first:  # pint's UndefinedUnitError and parse errors
        try:  # a unit of several words, no substance
            return quantity(" ".join(words)), ""
        except Exception:
            raise ValueError(f"unit {unit!r} is not a known unit ({first})") from None


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


def scale_for(values, unit: str) -> tuple[float, str]:
    """(factor, unit) to show `values` given in `unit` at a readable magnitude, as the plots and
    reports do: the unit is kept while the largest |value| is in [1, 10^4), else rescaled within its
    family (Mt -> kt -> t) by :func:`readable`. Multiply the values by the factor."""
    finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
    vmax = max(finite, default=0.0)
    if not unit or vmax == 0 or 1 <= vmax < 1e4:
        return 1.0, unit
    value, new_unit = readable(vmax, unit)
    return value / vmax, new_unit


def number(v: float, sign: bool = False) -> str:
    """A value as people read it: "2,138", "61.4", "0.523" (3 significant digits below 100,
    thousands separated above); sign=True adds "+" to positive values."""
    v = float(v)
    if not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    a = abs(v)
    text = f"{a:,.0f}" if a >= 99.95 else (f"{a:.1f}" if a >= 9.995 else f"{a:.3g}")
    return ("-" if v < 0 else ("+" if sign else "")) + text
