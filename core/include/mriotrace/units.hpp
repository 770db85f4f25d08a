// Readable magnitudes of physical units: a value in "Mt CO2" of 1.9e-06 is
// 1.9 "t CO2". Units are the labels' strings; the first word is looked up in
// one family of multiples (mass t, energy tce, energy J, money CNY) and the
// rest ("CO2", "(synthetic)") kept. Unknown units are left alone.
// (Conversions between families and the Python registry: mriotrace.units.)
#pragma once

#include <string>

namespace mriotrace {

struct ScaledValue {
  double value;
  std::string unit;
};

/// `value` in `unit`, rescaled within its family so that 1 <= |value| < 1000
/// where a multiple allows; unchanged for 0, non-finite values and unknown units.
ScaledValue readable(double value, const std::string& unit);

/// Factor from `from` to `to` (value_in_to = value_in_from * factor) when both
/// are multiples in one family with the same rest ("Mt CO2" -> "t CO2": 1e6);
/// throws InputError naming both otherwise.
double unit_factor(const std::string& from, const std::string& to);

}  // namespace mriotrace
