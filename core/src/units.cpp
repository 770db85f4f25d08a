// Readable magnitudes and factors within unit families (units.hpp).
#include "mriotrace/units.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/scenario.hpp"

namespace mriotrace {
namespace {

struct Multiple {
  const char* symbol;
  double factor;      // in the family's base unit
  bool pick = true;   // chosen by readable(); false: recognised as published, never chosen
};
using Family = std::vector<Multiple>;

/// Families in increasing order; the first word of a unit is looked up here.
const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      // Chinese statistics publish in units of 10^4 (wan): "10^4 t", "10^4 tce".
      {{"g", 1e-6}, {"kg", 1e-3}, {"t", 1}, {"kt", 1e3}, {"10^4 t", 1e4, false}, {"Mt", 1e6}, {"Gt", 1e9}},
      {{"kgce", 1e-3}, {"tce", 1}, {"ktce", 1e3}, {"10^4 tce", 1e4, false}, {"Mtce", 1e6}, {"Gtce", 1e9}},
      {{"kJ", 1e-6}, {"MJ", 1e-3}, {"GJ", 1}, {"TJ", 1e3}, {"PJ", 1e6}, {"EJ", 1e9}},
      {{"CNY", 1}, {"10^4 CNY", 1e4}, {"10^8 CNY", 1e8}},
      {{"USD", 1}, {"k.USD", 1e3}, {"M.USD", 1e6}, {"bn.USD", 1e9}},
      // EXIOBASE and FIGARO publish in M.EUR.
      {{"EUR", 1}, {"k.EUR", 1e3}, {"M.EUR", 1e6}, {"bn.EUR", 1e9}},
  };
  return all;
}

struct Parsed {
  const Family* family = nullptr;
  size_t member = 0;
  std::string rest;  // after the symbol, with its leading space
};

Parsed parse(const std::string& unit) {
  Parsed p;
  size_t best = 0;
  for (const Family& f : families())
    for (size_t m = 0; m < f.size(); ++m) {
      const std::string sym = f[m].symbol;
      // The symbol is the whole unit or followed by a space.
      if (unit.compare(0, sym.size(), sym) == 0 && (unit.size() == sym.size() || unit[sym.size()] == ' ') &&
          sym.size() > best) {
        best = sym.size();
        p.family = &f;
        p.member = m;
        p.rest = unit.substr(sym.size());
      }
    }
  return p;
}

}  // namespace

ScaledValue readable(double value, const std::string& unit) {
  const Parsed p = parse(unit);
  if (!p.family || value == 0 || !std::isfinite(value) || p.family == &families()[3] || p.family == &families()[4])
    return {value, unit};  // money stays in the table's unit (planners state it so)
  const Family& f = *p.family;
  const double base = std::abs(value) * f[p.member].factor;
  size_t pick = 0;  // the largest multiple that keeps |value| >= 1; else the smallest
  for (size_t m = 0; m < f.size(); ++m)
    if (f[m].pick && base / f[m].factor >= 1) pick = m;
  return {value * f[p.member].factor / f[pick].factor, f[pick].symbol + p.rest};
}

double unit_factor(const std::string& from, const std::string& to) {
  if (from == to) return 1.0;
  const Parsed a = parse(from), b = parse(to);
  if (!a.family || a.family != b.family || a.rest != b.rest)
    throw InputError("units \"" + from + "\" and \"" + to +
                     "\" do not match: expected multiples of one unit (e.g. \"Mt CO2\" and \"t CO2\", "
                     "\"Mtce\" and \"tce\", \"PJ\" and \"GJ\")");
  return (*a.family)[a.member].factor / (*b.family)[b.member].factor;
}

namespace {

/// The unit without a trailing note: "Mt CO2 (synthetic)" -> "Mt CO2".
std::string without_note(const std::string& unit) {
  std::string u = unit;
  if (!u.empty() && u.back() == ')') {
    const size_t open = u.rfind('(');
    if (open != std::string::npos) u.erase(open);
  }
  while (!u.empty() && u.back() == ' ') u.pop_back();
  return u;
}

void check_one(const std::string& declared, const std::string& actual, const std::string& what) {
  if (without_note(declared) == without_note(actual)) return;
  std::string hint;
  try {
    const double f = unit_factor(without_note(declared), without_note(actual));
    hint = "; 1 " + without_note(declared) + " = " + std::to_string(f) + " " + without_note(actual) +
           ": convert the file's numbers or fix the declaration";
  } catch (const InputError&) {
    hint = "; they are not multiples of one unit";
  }
  throw InputError(what + " = \"" + declared + "\" but the system's is \"" + actual + "\"" + hint);
}

}  // namespace

void check_declared_units(const MrioSystem& system, const std::string& monetary_unit,
                          const std::map<std::string, std::string>& stressor_units, const std::string& where) {
  const Labels& l = system.labels();
  if (!monetary_unit.empty()) check_one(monetary_unit, l.monetary_unit, where + ": monetary_unit");
  for (const auto& [name, unit] : stressor_units) {
    const auto it = std::find(l.stressors.begin(), l.stressors.end(), name);
    if (it == l.stressors.end()) {
      std::string known;
      for (const auto& s : l.stressors) known += (known.empty() ? "\"" : ", \"") + s + "\"";
      throw InputError(where + ": stressor_units names \"" + name + "\", which is not a stressor; known: " + known);
    }
    const size_t k = static_cast<size_t>(it - l.stressors.begin());
    check_one(unit, l.stressor_units.empty() ? std::string() : l.stressor_units[k],
              where + ": stressor_units[\"" + name + "\"]");
  }
}

}  // namespace mriotrace
