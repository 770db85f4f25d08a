// Characterisation: stressors -> impacts (e.g. EXIOBASE's satellite -> GWP100).
#pragma once

#include <string>
#include <vector>

#include "mriotrace/system.hpp"

namespace mriotrace {

/// A characterisation table: factors(i, j) = amount of impact i (in impact_units[i])
/// per unit of stressor stressors[j] (in that stressor's unit in the system).
struct CharacterisationTable {
  std::vector<std::string> impacts;       ///< m impact names (new stressor rows)
  std::vector<std::string> impact_units;  ///< m units, e.g. "kg CO2 eq."; empty -> all ""
  std::vector<std::string> stressors;     ///< k' stressor names of the system the factors apply to
  Matrix factors;                         ///< m x k'
};

/// The system with m rows appended to its stressors: S_new = factors S_sel and
/// F_Y_new = factors F_Y_sel (S_sel, F_Y_sel: the rows of the table's
/// stressors), so every account of the impacts follows by linearity. Stressors
/// of the system absent from the table have factor 0. Throws InputError when a
/// table stressor is not in the system, an impact name is already a stressor,
/// or shapes/values are wrong.
MrioSystem characterize(const MrioSystem& system, const CharacterisationTable& table);

}  // namespace mriotrace
