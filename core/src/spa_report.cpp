// The readable SPA summary (spa_report.hpp): the text `mriotrace spa` prints
// and Python's SPAResult.report() returns.
#include "mriotrace/spa_report.hpp"

#include <algorithm>
#include <sstream>

#include "mriotrace/text.hpp"

namespace mriotrace {

std::string node_name(const Labels& l, Index j) {
  return l.regions[static_cast<size_t>(j / l.N())] + "/" + l.sectors[static_cast<size_t>(j % l.N())];
}

std::string spa_report(const Labels& l, const SpaResult& r, const std::string& target, const std::string& unit,
                       const std::string& demand, size_t top) {
  std::ostringstream os;
  os << format("%s of %s: total %.6g %s\n", target.c_str(), demand.c_str(), r.total, unit.c_str())
     << format("paths >= %.4g %s (depth <= %d): %s found, coverage %.2f %%%s\n", r.threshold, unit.c_str(), r.max_depth,
            thousands(static_cast<long long>(r.paths_found)).c_str(), 100 * r.coverage,
            r.truncated ? (", TRUNCATED by " + r.truncation).c_str() : "")
     << "coverage by depth:";
  for (Index d = 0; d < r.coverage_by_depth.size(); ++d)
    os << format(" %lld: %.2f %%", static_cast<long long>(d), 100 * r.coverage_by_depth[d]);
  os << "\n\n";
  const size_t shown = std::min(top, r.paths.size());
  if (shown > 0) {
    os << format("%4s %12s %7s %5s  %s\n", "rank", "value", "share", "depth", "path (emitter > ... > final product)");
    for (size_t i = 0; i < shown; ++i) {
      const SpaPath& p = r.paths[i];
      std::string path;
      for (size_t t = 0; t < p.nodes.size(); ++t) {
        if (t) path += " > ";
        path += clip(node_name(l, p.nodes[t]), 48);
      }
      os << format("%4zu %12.5g %6.2f%% %5d  %s\n", i + 1, p.value, r.total != 0 ? 100 * p.value / r.total : 0.0,
                p.depth(), path.c_str());
    }
  }
  return os.str();
}

}  // namespace mriotrace
