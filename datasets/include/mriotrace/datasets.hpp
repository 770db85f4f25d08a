// Synthetic MRIO systems (deterministic for a seed) and the embedded real demo system.
#pragma once

#include <cstdint>

#include "mriotrace/system.hpp"

namespace mriotrace::datasets {

/// A realistic random MRIO system: dense-ish domestic blocks, sparser trade
/// blocks, column sums of A well below 1, lognormal outputs, a few stressors
/// whose intensities vary over orders of magnitude by sector.
struct GeneratorOptions {
  Index regions = 3;
  Index sectors = 4;
  Index fd_categories = 2;
  Index stressors = 2;
  double domestic_density = 0.6;  ///< fraction of nonzero entries in each domestic block A_rr
  double trade_density = 0.1;     ///< fraction of nonzero entries in each trade block A_rs (r != s)
  double domestic_share = 0.45;   ///< mean column sum of the domestic block
  double trade_share = 0.12;      ///< mean column sum over all trade blocks together
  bool value_added = true;        ///< store v = x - column sums of Z
  bool final_demand_stressors = true;  ///< F_Y for the first stressor (household emissions)
  std::uint64_t seed = 42;
  int threads = 0;                ///< threads building A (0 = environment); results do not depend on it
};

/// Generate a system; labels are "R0".."R{R-1}", "S0".., "FD0".., "stressor0"..
/// (all marked synthetic in the monetary unit). Same seed and options -> same numbers on
/// every platform (own RNG and distributions, no std:: distributions).
MrioSystem generate(const GeneratorOptions& options);

/// A synthetic firm-level supply network (the benchmark's "firm network"
/// workload): n = firms nodes, about `links` supplier -> buyer links, each a
/// nonzero A(supplier, buyer) (no self-links, no diagonal). Degrees follow a
/// power law: each buyer's number of suppliers (in-degree) is Pareto with
/// density exponent `exponent` (P(d) ~ d^-exponent), scaled so the total is
/// about `links`; suppliers are drawn with probability proportional to a
/// weight that grows with firm size (Pareto sizes), so out-degrees are
/// power-law too (a few hubs sell to thousands). A share `domestic_link_share`
/// of each buyer's suppliers comes from its own region. Column sums of A
/// (a buyer's intermediate-input share) are uniform in [0.2, 0.7] before rows
/// are capped (y >= 0.1 x), so column sums < 1 and I - A is productive.
/// Units: x, Y, v in "synthetic M.USD"; k stressors "stressor0".. in kt with
/// lognormal intensities (sigma 1.5); F_Y for stressor0 (households).
/// Layout as an MRIO: R = regions, N = firms / regions "sectors" named
/// "F0".. (the firm's number within its region, NOT a sector shared across
/// regions), region labels "R0"..; firm (r, i) sits at r*N + i.
/// Same seed and options -> same numbers for every thread count.
struct FirmNetworkOptions {
  Index firms = 250'000;           ///< n, a multiple of regions
  Index links = 1'100'000;         ///< target number of nonzeros of A (the result is within a few percent)
  Index regions = 10;              ///< regions (groups of firms); firms % regions == 0
  double exponent = 2.5;           ///< power-law exponent of the in-degree density, in (2, 5]
  double domestic_link_share = 0.7;  ///< share of suppliers from the buyer's own region, in [0, 1]
  Index fd_categories = 1;
  Index stressors = 3;
  std::uint64_t seed = 42;
  int threads = 0;                 ///< threads building A (0 = environment); results do not depend on it
};

/// Generate a firm network (see FirmNetworkOptions). Throws InputError on bad options.
MrioSystem firm_network(const FirmNetworkOptions& options);

/// China's 31 provinces x 42 sectors (NBS 2017 sector classification) with
/// generated numbers, for multi-regional examples. Names are real, numbers are
/// SYNTHETIC: stressors "CO2" (Mt CO2) and "Energy" (Mtce), final-demand categories
/// household consumption, government consumption, gross capital formation,
/// monetary unit "10^4 CNY (synthetic)".
MrioSystem china_synthetic(std::uint64_t seed = 2017);

/// The demo's default system, REAL data: China's national 2018 input-output
/// table (NBS, 153 sectors, 10^4 CNY, imports removed proportionally) with the
/// CEADs 2018 Scope-1 CO2 inventory (Mt CO2; households in F_Y). One region
/// "China"; final-demand categories as in the NBS table, exports included.
/// Derived by datasets/china_national/build.py (sources and citation:
/// datasets/china_national/PROVENANCE.md) and embedded in the library, so it
/// needs no file at run time.
MrioSystem china_demo();

}  // namespace mriotrace::datasets
