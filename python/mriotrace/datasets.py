"""Synthetic systems: the deterministic generator and the demo's default system."""

from __future__ import annotations

from . import _core
from .system import MRIOSystem


def generate(regions: int = 3, sectors: int = 4, fd_categories: int = 2, stressors: int = 2, *,
             domestic_density: float = 0.6, trade_density: float = 0.1, domestic_share: float = 0.45,
             trade_share: float = 0.12, value_added: bool = True, final_demand_stressors: bool = True,
             seed: int = 42, threads: int = 0) -> MRIOSystem:
    """A realistic random MRIO system, the same numbers for the same seed and options on every platform.

    Dense-ish domestic blocks (density `domestic_density`, mean column sum
    `domestic_share`), sparser trade blocks (`trade_density`, `trade_share` over
    all trade blocks together), lognormal outputs, `stressors` stressors (one
    extension "stressors": stressor0, ...), household emissions of stressor0 as
    F_Y when `final_demand_stressors`, value added v when `value_added`.
    Labels R0.., S0.., FD0..; the monetary unit says the numbers are synthetic.
    `threads` (0 = environment) only changes the speed, never the numbers.
    """
    core = _core.generate(regions=regions, sectors=sectors, fd_categories=fd_categories, stressors=stressors,
                          domestic_density=domestic_density, trade_density=trade_density,
                          domestic_share=domestic_share, trade_share=trade_share, value_added=value_added,
                          final_demand_stressors=final_demand_stressors, seed=seed, threads=threads)
    return MRIOSystem._from_core(core, name=f"synthetic {regions}x{sectors} (seed {seed})")


def china_default(seed: int = 2017) -> MRIOSystem:
    """China's 31 provinces x 42 sectors (NBS 2017 sector names): real names, SYNTHETIC numbers.

    Stressors "CO2" (Mt CO2) and "Energy" (Mtce); final-demand categories household
    consumption, government consumption, gross capital formation; monetary unit
    "10^4 CNY (synthetic)". For demos and tests of the workflow, never for
    conclusions about China.
    """
    return MRIOSystem._from_core(_core.china_default(seed), name="China 31 provinces x 42 sectors (synthetic)")
