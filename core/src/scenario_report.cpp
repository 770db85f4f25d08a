// The readable scenario report (scenario_report.hpp): the text the CLI prints
// and Python's ScenarioResult.report() returns.
#include "mriotrace/scenario_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "mriotrace/text.hpp"
#include "mriotrace/units.hpp"
#include "mriotrace/scenario.hpp"

namespace mriotrace {
namespace {


/// "%+.4g" that never prints "-0".
std::string signed_g(double v) { return format("%+.4g", v == 0 ? 0.0 : v); }

/// A value with its unit at a readable magnitude: "1.93 t CO2".
std::string with_unit(double v, const std::string& unit, bool sign = false) {
  const ScaledValue s = readable(v, unit);
  return (sign ? signed_g(s.value) : format("%.4g", s.value)) + (s.unit.empty() ? "" : " " + s.unit);
}

const std::string& unit_of(const Labels& l, Index s) {
  static const std::string none;
  return l.stressor_units.empty() ? none : l.stressor_units[static_cast<size_t>(s)];
}

/// "kind: a = 1 [unit]; b = 2; ..." wrapped at 100 columns between parameters.
void write_note(std::ostringstream& os, const std::string& note) {
  const bool extra = note.rfind("  ", 0) == 0;
  std::string line = extra ? "    " + note.substr(2) : "  " + note;
  size_t start = 0;
  while (line.size() - start > 100) {
    size_t cut = line.rfind("; ", start + 100);
    if (cut == std::string::npos || cut <= start) break;
    os << line.substr(start, cut + 1 - start) << '\n';
    line.replace(cut + 1, 1, "      ");
    start = cut + 1;
  }
  os << line.substr(start) << '\n';
}

}  // namespace

std::string signed_percent(double fraction, int decimals) {
  if (std::isnan(fraction)) return "n/a";
  double v = 100 * fraction;
  if (std::abs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0;  // rounds to zero: "+0.00", not "-0.00"
  return format("%+.*f %%", decimals, v);
}

std::string industry_report(const MrioSystem& base, const ScenarioOptions& options) {
  if (!base.has_value_added()) return "";
  const auto names = options.industry.empty() ? default_industry_sectors(base.labels()) : options.industry;
  return format("Industrial sectors for intensities: %zu (%s .. %s)\n\n", names.size(), names.front().c_str(),
             names.back().c_str());
}

std::string scenario_report(const MrioSystem& sys, const BaseResults& base, const Scenario& sc,
                            const ScenarioResult& res) {
  std::ostringstream os;
  const Labels& l = sys.labels();
  const Index R = sys.R(), N = sys.N();
  os << "Scenario \"" << res.name << "\"";
  if (!sc.description.empty()) os << ": " << sc.description;
  os << '\n';
  for (const auto& note : res.notes) write_note(os, note);
  os << format("  solved: %s (rank %lld, %lld coefficients changed) in %.3f s\n",
            res.path == "lowrank" ? "low-rank update of the base solve" : "full refactorisation",
            static_cast<long long>(res.rank), static_cast<long long>(res.changed_coefficients), res.seconds);
  for (Index s = 0; s < sys.k(); ++s) {
    const std::string& unit = unit_of(l, s);
    const double p0 = base.pba.row(s).sum(), dp = res.dpba.row(s).sum(), dc = res.dcba.row(s).sum();
    os << format("  %s [%s]: global dPBA %s (%s), dCBA %s", l.stressors[static_cast<size_t>(s)].c_str(), unit.c_str(),
              signed_g(dp).c_str(), signed_percent(p0 != 0 ? dp / p0 : 0.0, 3).c_str(), signed_g(dc).c_str());
    if (!std::isnan(res.leakage[s])) os << format(", leakage ratio %.3f", res.leakage[s]);
    os << '\n';
    std::vector<Index> order(static_cast<size_t>(R));
    std::iota(order.begin(), order.end(), Index{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](Index a, Index b) { return std::abs(res.dpba(s, a)) > std::abs(res.dpba(s, b)); });
    os << "    largest dPBA:";
    for (size_t i = 0; i < std::min<size_t>(4, order.size()); ++i) {
      const Index r = order[i];
      if (res.dpba(s, r) == 0) break;
      os << format(" %s %s;", l.regions[static_cast<size_t>(r)].c_str(), signed_g(res.dpba(s, r)).c_str());
    }
    os << '\n';
  }
  // Relocations as planners ask: the origins' and destinations' changes, the
  // rest of the system, the total (China's or the world's: all regions of
  // the table) and the leakage ratio.
  std::vector<char> origin(static_cast<size_t>(R), 0), destination(static_cast<size_t>(R), 0);
  for (const Operation& op : sc.operations)
    if (op.kind == "relocate") {
      origin[static_cast<size_t>(sys.region_index(std::get<std::string>(op.params.at("from"))))] = 1;
      destination[static_cast<size_t>(sys.region_index(std::get<std::string>(op.params.at("to"))))] = 1;
    }
  if (std::find(origin.begin(), origin.end(), 1) != origin.end())
    for (Index s = 0; s < sys.k(); ++s) {
      double o = 0, d = 0, rest = 0;
      for (Index r = 0; r < R; ++r)
        (origin[static_cast<size_t>(r)] ? o : destination[static_cast<size_t>(r)] ? d : rest) += res.dpba(s, r);
      const std::string& unit = unit_of(l, s);
      os << format("  relocation, %s (production-based): origins %s, destinations %s, elsewhere %s, all regions %s",
                l.stressors[static_cast<size_t>(s)].c_str(), with_unit(o, unit, true).c_str(),
                with_unit(d, unit, true).c_str(), with_unit(rest, unit, true).c_str(),
                with_unit(res.dpba.row(s).sum(), unit, true).c_str());
      if (!std::isnan(res.leakage[s])) os << format("; leakage ratio %.3f", res.leakage[s]);
      os << '\n';
    }
  const Index N1 = static_cast<Index>(res.sectors.size());  // N, or more when the scenario splits a sector off
  for (Index i = N; i < N1; ++i)
    for (Index r = 0; r < R; ++r) {
      const Index c = r * N1 + i;
      if (res.x[c] == 0) continue;
      os << format("  new sector (%s, %s): output %.4g %s", l.regions[static_cast<size_t>(r)].c_str(),
                res.sectors[static_cast<size_t>(i)].c_str(), res.x[c], l.monetary_unit.c_str());
      if (res.va.size() > 0) os << format(", value added %.4g", res.va[c]);
      for (Index s = 0; s < sys.k(); ++s)
        os << format(", %s %s", l.stressors[static_cast<size_t>(s)].c_str(), with_unit(res.dF(s, c), unit_of(l, s)).c_str());
      os << '\n';
    }
  if (res.va.size() > 0) {
    // Total value added equals total final demand, so it moves only with Y; show where it moves.
    std::vector<double> dva(static_cast<size_t>(R));
    for (Index r = 0; r < R; ++r)
      dva[static_cast<size_t>(r)] = res.va.segment(r * N1, N1).sum() - base.va.segment(r * N, N).sum();
    std::vector<Index> order(static_cast<size_t>(R));
    std::iota(order.begin(), order.end(), Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
      return std::abs(dva[static_cast<size_t>(a)]) > std::abs(dva[static_cast<size_t>(b)]);
    });
    double total = res.va.sum() - base.va.sum();
    if (std::abs(total) < 1e-12 * base.va.sum()) total = 0;  // round-off: total VA = total final demand
    os << format("  value added [%s]: total %s (%s); largest changes:", l.monetary_unit.c_str(), signed_g(total).c_str(),
              signed_percent(total / base.va.sum(), 4).c_str());
    for (size_t i = 0; i < std::min<size_t>(3, order.size()); ++i) {
      const double d = dva[static_cast<size_t>(order[i])];
      if (std::abs(d) < 1e-12 * base.va.sum()) break;
      os << format(" %s %s;", l.regions[static_cast<size_t>(order[i])].c_str(), signed_g(d).c_str());
    }
    os << '\n';
  }
  for (const auto& t : res.targets) {
    const bool all = t.target.region.empty() || t.target.region == "all";
    const std::string where = all ? "all regions" : t.target.region;
    const std::string& unit = unit_of(l, t.stressor);
    const ScaledValue i0 = readable(t.base, unit);
    const double to_i0 = t.base != 0 ? i0.value / t.base : 1.0;  // the readable scale of the base intensity
    const std::string years = t.target.target_year
                                  ? format(" %d->%d", t.target.base_year, t.target.target_year)
                                  : std::string(" (static: no baseline path)");
    os << format("  target %s in %s%s, per unit of %s: required %s\n", t.target.indicator.c_str(), where.c_str(),
              years.c_str(), t.basis.c_str(), signed_percent(t.target.change, 1).c_str());
    os << format("    base-year intensity %.4g %s per %s; with the scenario %.4g (%s; LMDI: structure %s, "
              "intensity %s)\n",
              i0.value, i0.unit.c_str(), l.monetary_unit.c_str(), t.scenario * to_i0, signed_percent(t.change).c_str(),
              signed_percent(t.lmdi_structure / t.base).c_str(), signed_percent(t.lmdi_intensity / t.base).c_str());
    auto share = [](double v) {
      return std::isnan(v) ? std::string("n/a") : format("%.1f %%", std::abs(100 * v) < 0.05 ? 0.0 : 100 * v);
    };
    // gap > 0: stressor above what the target allows in the target year; < 0: room to spare.
    const std::string verdict = t.met ? "MET, room to spare " + with_unit(-t.gap, unit)
                                      : "NOT MET, gap " + with_unit(t.gap, unit);
    os << format("    baseline %s + scenario %s = %s; the scenario delivers %s of the target, all together %s "
              "-> %s\n",
              signed_percent(t.baseline).c_str(), signed_percent(t.contribution).c_str(),
              signed_percent(t.total).c_str(), share(t.share).c_str(), share(t.total_share).c_str(), verdict.c_str());
  }
  for (const auto& pf : res.parks) {
    // What the park's own output embodies (its consumption-based footprint), before and after.
    os << format("  park %s: output %.4g -> %.4g %s\n", pf.label.c_str(), pf.base_output, pf.scenario_output,
              l.monetary_unit.c_str());
    for (Index s = 0; s < sys.k(); ++s) {
      const std::string& unit = unit_of(l, s);
      const double i0 = pf.base[s] / pf.base_output, i1 = pf.scenario[s] / pf.scenario_output;
      const ScaledValue r0 = readable(i0, unit);
      const double to = i0 != 0 ? r0.value / i0 : 1.0;
      os << format("    %s footprint %s -> %s (%s); per unit of output %.4g -> %.4g %s per %s\n",
                l.stressors[static_cast<size_t>(s)].c_str(), with_unit(pf.base[s], unit).c_str(),
                with_unit(pf.scenario[s], unit).c_str(),
                signed_percent(pf.base[s] != 0 ? pf.scenario[s] / pf.base[s] - 1 : 0.0).c_str(), r0.value, i1 * to,
                r0.unit.c_str(), l.monetary_unit.c_str());
    }
  }
  if (!res.measures.empty()) {
    // Each measure run alone; the interaction makes them add up to the whole.
    os << "  portfolio: each measure alone (global dPBA; contribution to each target), interaction = all "
          "together - sum\n";
    for (const auto& me : res.measures) {
      os << "    " << me.label << ':';
      for (Index s = 0; s < sys.k(); ++s)
        os << format(" %s %s;", l.stressors[static_cast<size_t>(s)].c_str(), with_unit(me.dpba[s], unit_of(l, s), true).c_str());
      for (size_t t = 0; t < me.target_contribution.size(); ++t)
        os << format(" target %zu %s;", t + 1, signed_percent(me.target_contribution[t]).c_str());
      os << '\n';
    }
  }
  os << '\n';
  return wrap_lines(os.str());  // 100 columns, for a terminal and for the CLI's and Python's text alike
}

}  // namespace mriotrace
