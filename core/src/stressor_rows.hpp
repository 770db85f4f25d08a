// Which stressor rows an analysis uses (private helper of montecarlo.cpp and sda.cpp).
#pragma once

#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace::detail {

/// `requested` checked against k stressors, or all rows 0..k-1 when empty.
/// Errors start with `what` (the analysis).
inline std::vector<Index> stressor_rows(const std::vector<Index>& requested, Index k, const char* what) {
  std::vector<Index> rows = requested;
  if (rows.empty())
    for (Index i = 0; i < k; ++i) rows.push_back(i);
  for (Index i : rows)
    MRIOTRACE_CHECK(i >= 0 && i < k, what, ": stressor index ", i, " is out of range; the system has ", k,
                    " stressors");
  return rows;
}

}  // namespace mriotrace::detail
