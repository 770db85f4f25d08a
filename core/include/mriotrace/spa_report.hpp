// The readable summary of a structural path analysis: one formatter for the
// CLI (`mriotrace spa`) and Python (SPAResult.report()), so both print the
// same text.
#pragma once

#include <cstddef>
#include <string>

#include "mriotrace/system.hpp"
#include "mriotrace/tracing.hpp"

namespace mriotrace {

/// "REGION/SECTOR" of system index j (region-major, labels.N() sectors per region).
std::string node_name(const Labels& labels, Index j);

/// The SPA summary: target and demand with the total in `unit`, the threshold,
/// paths found and coverage (total and by depth), then the best `top` kept
/// paths (rank, value in `unit`, share of the total, depth, emitter > ... >
/// final product; names longer than 48 characters end in "..."). Ends with a
/// newline.
std::string spa_report(const Labels& labels, const SpaResult& result, const std::string& target,
                       const std::string& unit, const std::string& demand, size_t top);

}  // namespace mriotrace
