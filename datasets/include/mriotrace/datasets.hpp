// Synthetic MRIO systems (deterministic for a seed) and the embedded default.
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

/// The demo's default system: China's 31 provinces x 42 sectors (NBS 2017
/// sector classification) with generated numbers. Names are real, numbers are
/// SYNTHETIC: stressors "CO2" (Mt CO2) and "Energy" (Mtce), final-demand categories
/// household consumption, government consumption, gross capital formation,
/// monetary unit "10^4 CNY (synthetic)".
MrioSystem china_default(std::uint64_t seed = 2017);

}  // namespace mriotrace::datasets
