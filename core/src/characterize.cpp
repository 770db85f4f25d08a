#include "mriotrace/characterize.hpp"

#include <unordered_map>
#include <unordered_set>

#include "mriotrace/error.hpp"

namespace mriotrace {

MrioSystem characterize(const MrioSystem& s, const CharacterisationTable& t) {
  const Index m = static_cast<Index>(t.impacts.size());
  const Index kt = static_cast<Index>(t.stressors.size());
  MRIOTRACE_CHECK(m > 0, "the characterisation table names no impacts");
  MRIOTRACE_CHECK(t.factors.rows() == m && t.factors.cols() == kt, "characterisation factors are ",
                  t.factors.rows(), " x ", t.factors.cols(), "; expected impacts x stressors = ", m, " x ", kt);
  MRIOTRACE_CHECK(t.impact_units.empty() || static_cast<Index>(t.impact_units.size()) == m, "the table has ",
                  t.impact_units.size(), " impact units for ", m, " impacts");
  check_finite(t.factors, "characterisation factors");
  const Labels& l = s.labels();
  std::unordered_map<std::string, Index> row_of;
  for (Index i = 0; i < l.k(); ++i) row_of.emplace(l.stressors[static_cast<size_t>(i)], i);
  std::unordered_set<std::string> impacts;
  for (const auto& name : t.impacts) {
    MRIOTRACE_CHECK(row_of.count(name) == 0, "impact \"", name, "\" is already a stressor of the system");
    MRIOTRACE_CHECK(impacts.insert(name).second, "impact \"", name, "\" is listed twice");
  }
  // C (m x k) over all stressors of the system; a stressor listed twice adds up.
  Matrix C = Matrix::Zero(m, l.k());
  for (Index j = 0; j < kt; ++j) {
    const auto it = row_of.find(t.stressors[static_cast<size_t>(j)]);
    MRIOTRACE_CHECK(it != row_of.end(), "characterisation table stressor \"", t.stressors[static_cast<size_t>(j)],
                    "\" is not a stressor of the system (", l.k(), " stressors, e.g. \"",
                    l.k() > 0 ? l.stressors[0] : std::string(), "\")");
    C.col(it->second) += t.factors.col(j);
  }
  SystemInput in;
  in.labels = l;
  const bool units = !l.stressor_units.empty() || !t.impact_units.empty();
  if (units) in.labels.stressor_units.resize(static_cast<size_t>(l.k()));  // "" where the system has none
  for (Index i = 0; i < m; ++i) {
    in.labels.stressors.push_back(t.impacts[static_cast<size_t>(i)]);
    if (units) in.labels.stressor_units.push_back(t.impact_units.empty() ? "" : t.impact_units[static_cast<size_t>(i)]);
  }
  in.A = s.A();
  in.x = s.x();
  in.Y = s.Y();
  in.S.resize(l.k() + m, s.n());
  in.S << s.S(), C * s.S();
  if (s.has_F_Y()) {
    in.F_Y.resize(l.k() + m, s.F_Y().cols());
    in.F_Y << s.F_Y(), C * s.F_Y();
  }
  in.v = s.v();
  if (s.has_indicators()) {  // existing indicators: no factor on the new rows
    in.C = Matrix::Zero(s.C().rows(), l.k() + m);
    in.C.leftCols(l.k()) = s.C();
  }
  return MrioSystem::build(std::move(in));
}

}  // namespace mriotrace
