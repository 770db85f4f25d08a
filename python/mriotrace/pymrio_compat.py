"""Conversion from pymrio: every table pymrio can parse reaches the engine.

pymrio is not a dependency of mriotrace; it is imported only by the functions
that need it (from_pymrio reads the object's attributes, to_pymrio builds one).
"""

from __future__ import annotations

from .system import MRIOSystem


def from_pymrio(io, threads: int = 0) -> MRIOSystem:
    """An MRIOSystem from a pymrio.IOSystem.

    Uses Z (else A), Y, x when present, and every extension's F (else S),
    F_Y and unit; extension attribute and display names are kept
    (``io.emissions`` -> ``system.emissions`` with ``.name == "Emissions"``).
    pymrio's computed results (L, M, D_*) are not copied: call calc_all().
    Raises ValueError if the tables do not have pymrio's (region, sector)
    MultiIndexes or if Y is missing.
    """
    if getattr(io, "Y", None) is None:
        raise ValueError("the pymrio system has no final demand Y; mriotrace needs Y (and Z, or A)")
    Z, A = getattr(io, "Z", None), getattr(io, "A", None)
    if Z is None and A is None:
        raise ValueError("the pymrio system has neither Z nor A")
    extensions = {}
    for inst, ext in zip(io.get_extensions(data=False, instance_names=True), io.get_extensions(data=True)):
        F = getattr(ext, "F", None)
        extensions[inst] = {
            "name": ext.name,
            "F": F,
            "S": getattr(ext, "S", None) if F is None else None,
            "F_Y": getattr(ext, "F_Y", None),
            "unit": getattr(ext, "unit", None),
        }
    return MRIOSystem(Z=Z, A=A if Z is None else None, Y=io.Y, x=getattr(io, "x", None), extensions=extensions,
                      monetary_unit=_monetary_unit(getattr(io, "unit", None)), name=getattr(io, "name", "IO"),
                      threads=threads)


def _monetary_unit(unit) -> str:
    """pymrio keeps one unit per (region, sector); the engine one for the table."""
    if unit is None:
        return ""
    values = unit["unit"] if hasattr(unit, "columns") and "unit" in unit.columns else unit
    uniq = list(dict.fromkeys(str(u) for u in getattr(values, "to_numpy", lambda: values)().ravel()))
    return uniq[0] if len(uniq) == 1 else " / ".join(uniq)


def to_pymrio(system: MRIOSystem, include_x: bool = True):
    """A pymrio.IOSystem from an MRIOSystem (see MRIOSystem.to_pymrio)."""
    return system.to_pymrio(include_x=include_x)
