"""Synthetic systems: the deterministic generator, the firm network and the demo's default system."""

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


def firm_network(firms: int = 250_000, links: int = 1_100_000, regions: int = 10, *, exponent: float = 2.5,
                 domestic_link_share: float = 0.7, fd_categories: int = 1, stressors: int = 3, seed: int = 42,
                 threads: int = 0) -> MRIOSystem:
    """A synthetic firm-level supply network with power-law degrees (SYNTHETIC numbers).

    ``firms`` nodes (a multiple of ``regions``) and about ``links`` supplier ->
    buyer links, each a nonzero of A (no self-links). Each firm's number of
    suppliers follows a power law with density exponent ``exponent``;
    suppliers are drawn by a weight growing with firm size, so a few hubs sell
    to thousands of firms. ``domestic_link_share`` of a firm's suppliers are in
    its own region. Column sums of A lie in [0.2, 0.7] (I - A is productive).
    Labels: regions R0.., firms F0.. (the firm's number within its region:
    the "sector" level holds firms, not sectors shared across regions), one
    extension "stressors" with ``stressors`` rows in kt, F_Y for stressor0,
    value added v. The defaults give the benchmark's 250,000-firm workload
    (about 1.1 million links, built in about a second); its dense Leontief
    inverse would need 500 GB. ``threads`` never changes the numbers.
    """
    core = _core.firm_network(firms=firms, links=links, regions=regions, exponent=exponent,
                              domestic_link_share=domestic_link_share, fd_categories=fd_categories,
                              stressors=stressors, seed=seed, threads=threads)
    return MRIOSystem._from_core(core, name=f"firm network {firms} firms (seed {seed})")
