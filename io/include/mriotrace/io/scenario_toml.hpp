// Scenario files (TOML): one parser for the CLI, Python and the batch layer.
//
//   [base]                      # optional
//   system = "demo"             # "demo" (real national China 2018), "synthetic" (31 provinces,
//                               # SYNTHETIC numbers) or an .h5 system, relative to the file
//   industry = ["02 ...", ...]  # industrial sectors for the intensity indicators (default: NBS 02-26)
//   monetary_unit = "10^4 CNY"  # units the file's numbers are in (checked against the system's:
//   stressor_units = {CO2 = "Mt CO2"}  #  check_declared_units)
//
//   [[targets]]                 # checked in every scenario
//   indicator = "CO2/VA"        # <stressor>/VA: stressor per unit of industrial value added
//   region = "Zhejiang"         # omit for all regions together
//   change = -0.20              # required change; met when baseline + scenario <= change
//   basis, base_year, target_year, baseline_change, va_growth, intensity_trend  # see Target
//
//   [[scenario]]
//   name = "..."                # unique
//   description = "..."         # optional
//   [[scenario.operation]]      # applied in order
//   kind = "relocate"           # see mriotrace::operation_parameters(kind)
//   product = "..."             # parameters: numbers, true/false, labels, lists of
//   ...                         # labels, inline tables {label = number}
//   [[scenario.target]]         # this scenario's own targets
//
// Errors are InputError with "FILE:LINE:COLUMN:" and the scenario, operation
// and parameter concerned; an unreadable file is a FileError.
#pragma once

#include <string>

#include "mriotrace/scenario.hpp"

namespace mriotrace::io {

/// Parse scenario TOML text. `source` names it in messages (a file name or "<string>");
/// a relative base system path is resolved against `base_dir` when given.
ScenarioSet parse_scenarios(const std::string& text, const std::string& source = "<string>",
                            const std::string& base_dir = "");

/// Read and parse a scenario file; a relative base system path is resolved
/// against the file's folder.
ScenarioSet read_scenarios(const std::string& path);

}  // namespace mriotrace::io
