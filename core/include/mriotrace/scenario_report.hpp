// The readable report of a scenario result: one formatter for the CLI
// (`mriotrace scenario run`) and Python (ScenarioResult.report()), so both
// print the same text. Quantities carry units; magnitudes are rescaled to
// readable ones within a unit family (units.hpp).
#pragma once

#include <string>

#include "mriotrace/scenario.hpp"
#include "mriotrace/system.hpp"

namespace mriotrace {

/// The report of one scenario: its operations (with units), how it was
/// solved, global and largest regional changes per stressor, value added,
/// any sector split off, and one line per target (basis, baseline, the
/// scenario's contribution, share of the target delivered, met / gap with
/// units). Ends with an empty line.
std::string scenario_report(const MrioSystem& base, const BaseResults& base_results, const Scenario& scenario,
                            const ScenarioResult& result);

/// "Industrial sectors for intensities: 25 (02 ... .. 26 ...)" and an empty
/// line; "" when the system has no value added.
std::string industry_report(const MrioSystem& base, const ScenarioOptions& options);

/// A signed percentage of a fraction with `decimals` decimals ("+1.25 %");
/// a value that rounds to zero prints "+0.00 %", never "-0.00 %".
std::string signed_percent(double fraction, int decimals = 2);

}  // namespace mriotrace
