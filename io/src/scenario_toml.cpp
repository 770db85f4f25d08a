// Scenario files in TOML (toml++ from Debian's libtomlplusplus-dev).
//
// The reader only translates TOML into Scenario values; the meaning of every
// parameter is checked by the scenario engine itself (one validator for
// files, Python and C++). Here: TOML syntax, the file's structure, unknown
// keys, and parameter values of a type no operation takes.
#include "mriotrace/io/scenario_toml.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "mriotrace/error.hpp"

namespace mriotrace::io {
namespace {

/// The most (shared target, scenario) pairs a file may ask for.
constexpr size_t kMaxSharedTargetCopies = 1'000'000;

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& what) const {
    std::ostringstream os;
    os << source_;
    if (node && node->source().begin.line > 0)
      os << ':' << node->source().begin.line << ':' << node->source().begin.column;
    os << ": " << what;
    throw InputError(os.str());
  }

  void only_keys(const toml::table& t, const std::set<std::string>& allowed, const std::string& where) const {
    for (const auto& [key, node] : t)
      if (!allowed.count(std::string(key.str()))) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(&node, where + ": unknown key \"" + std::string(key.str()) + "\"; expected one of " + list);
      }
  }

  const toml::table& table(const toml::node& node, const std::string& where) const {
    const toml::table* t = node.as_table();
    if (!t) fail(&node, where + " must be a table");
    return *t;
  }

  std::string text(const toml::table& t, const char* key, const std::string& where, bool required) const {
    const toml::node* node = t.get(key);
    if (!node) {
      if (required) fail(&t, where + ": \"" + key + "\" is required");
      return "";
    }
    const auto* s = node->as_string();
    if (!s) fail(node, where + ": \"" + key + "\" must be a string");
    return s->get();
  }

  double number(const toml::node& node, const std::string& what) const {
    if (const auto* d = node.as_floating_point()) return d->get();
    if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
    fail(&node, what + " must be a number");
  }

  std::vector<std::string> labels(const toml::node& node, const std::string& what) const {
    std::vector<std::string> out;
    if (const auto* s = node.as_string()) return {s->get()};
    const toml::array* a = node.as_array();
    if (!a) fail(&node, what + " must be a list of labels");
    for (const auto& item : *a) {
      const auto* s = item.as_string();
      if (!s) fail(&item, what + " must hold only strings (labels)");
      out.push_back(s->get());
    }
    return out;
  }

  ParamValue param(const toml::node& node, const std::string& what) const {
    if (const auto* b = node.as_boolean()) return b->get();
    if (node.is_number()) return number(node, what);
    if (const auto* s = node.as_string()) return s->get();
    if (node.is_array()) return labels(node, what);
    if (const auto* t = node.as_table()) {
      std::map<std::string, double> out;
      for (const auto& [key, value] : *t) out[std::string(key.str())] = number(value, what + "." + std::string(key.str()));
      return out;
    }
    fail(&node, what + " has a type no operation takes; expected a number, true/false, a label, a list of labels "
                       "or a table {label = number}");
  }

  Target target(const toml::node& node, const std::string& where) const {
    const toml::table& t = table(node, where);
    only_keys(t, {"indicator", "region", "change", "basis", "base_year", "target_year", "baseline_change",
                  "va_growth", "intensity_trend"},
              where);
    Target out;
    out.indicator = text(t, "indicator", where, true);
    out.region = text(t, "region", where, false);
    out.basis = text(t, "basis", where, false);
    const toml::node* change = t.get("change");
    if (!change) fail(&t, where + ": \"change\" is required (e.g. change = -0.20 for 20 % lower)");
    out.change = number(*change, where + ": \"change\"");
    for (const char* key : {"base_year", "target_year"})
      if (const toml::node* y = t.get(key)) {
        const auto* i = y->as_integer();
        if (!i) fail(y, where + ": \"" + key + "\" must be a year (an integer, e.g. 2020)");
        // Checked before narrowing to int: 99999999999 would become another year.
        if (i->get() < 1 || i->get() > 9999)
          fail(y, where + ": \"" + key + "\" is " + std::to_string(i->get()) + "; expected a year from 1 to 9999");
        (std::string(key) == "base_year" ? out.base_year : out.target_year) = static_cast<int>(i->get());
      }
    if (const toml::node* b = t.get("baseline_change")) out.baseline_change = number(*b, where + ": \"baseline_change\"");
    // A rate for every sector (a number), or a table {sector or region or "*" = rate}.
    for (const char* key : {"va_growth", "intensity_trend"})
      if (const toml::node* g = t.get(key)) {
        auto& rates = std::string(key) == "va_growth" ? out.va_growth : out.intensity_trend;
        if (g->is_number()) {
          rates["*"] = number(*g, where + ": \"" + key + "\"");
        } else if (const auto* tab = g->as_table()) {
          for (const auto& [k, v] : *tab) rates[std::string(k.str())] = number(v, where + ": " + key + "." + std::string(k.str()));
        } else {
          fail(g, where + ": \"" + key + "\" must be an annual rate (a number) or a table {sector or region = rate}");
        }
      }
    return out;
  }

  std::vector<const toml::node*> array_of_tables(const toml::table& t, const char* key, const std::string& where) const {
    std::vector<const toml::node*> out;
    const toml::node* node = t.get(key);
    if (!node) return out;
    const toml::array* a = node->as_array();
    if (!a) fail(node, where + ": \"" + key + "\" must be an array of tables ([[" + key + "]])");
    for (const auto& item : *a) out.push_back(&item);
    return out;
  }

  ScenarioSet read(const toml::table& root, const std::string& base_dir) const {
    ScenarioSet set;
    only_keys(root, {"base", "targets", "scenario"}, "top level");
    if (const toml::node* b = root.get("base")) {
      const toml::table& base = table(*b, "[base]");
      only_keys(base, {"system", "industry", "monetary_unit", "stressor_units"}, "[base]");
      set.monetary_unit = text(base, "monetary_unit", "[base]", false);
      if (const toml::node* su = base.get("stressor_units")) {
        const toml::table* t = su->as_table();
        if (!t) fail(su, "[base]: \"stressor_units\" must be a table {stressor = \"unit\"}");
        for (const auto& [k, v] : *t) {
          const auto* u = v.as_string();
          if (!u) fail(&v, "[base]: stressor_units." + std::string(k.str()) + " must be a unit (a string)");
          set.stressor_units[std::string(k.str())] = u->get();
        }
      }
      set.base_system = text(base, "system", "[base]", false);
      if (!set.base_system.empty() && set.base_system != "demo" &&
          set.base_system != "synthetic" && !base_dir.empty() &&
          std::filesystem::path(set.base_system).is_relative())
        set.base_system = (std::filesystem::path(base_dir) / set.base_system).lexically_normal().string();
      if (const toml::node* ind = base.get("industry")) set.industry = labels(*ind, "[base] industry");
    }
    const auto targets = array_of_tables(root, "targets", "top level");
    for (size_t i = 0; i < targets.size(); ++i)
      set.targets.push_back(target(*targets[i], "[[targets]] " + std::to_string(i + 1)));
    const auto scenarios = array_of_tables(root, "scenario", "top level");
    if (scenarios.empty()) fail(&root, "no [[scenario]] tables; expected at least one");
    // Every scenario carries its own copy of the shared [[targets]]: bounded,
    // so that a small file cannot ask for billions of target copies.
    if (targets.size() * scenarios.size() > kMaxSharedTargetCopies)
      fail(&root, "the file has " + std::to_string(targets.size()) + " [[targets]] checked in each of " +
                      std::to_string(scenarios.size()) + " [[scenario]] tables; expected at most " +
                      std::to_string(kMaxSharedTargetCopies) + " targets x scenarios (split the file)");
    std::set<std::string> names;
    for (size_t i = 0; i < scenarios.size(); ++i) {
      const std::string where0 = "[[scenario]] " + std::to_string(i + 1);
      const toml::table& st = table(*scenarios[i], where0);
      only_keys(st, {"name", "description", "operation", "target", "portfolio"}, where0);
      Scenario sc;
      sc.name = text(st, "name", where0, true);
      if (const toml::node* pf = st.get("portfolio")) {
        const auto* b = pf->as_boolean();
        if (!b) fail(pf, where0 + ": \"portfolio\" must be true or false");
        sc.portfolio = b->get();
      }
      if (sc.name.empty()) fail(st.get("name"), where0 + ": \"name\" is empty");
      if (!names.insert(sc.name).second) fail(st.get("name"), where0 + ": duplicate scenario name \"" + sc.name + "\"");
      const std::string where = "scenario \"" + sc.name + "\"";
      sc.description = text(st, "description", where, false);
      const auto ops = array_of_tables(st, "operation", where);
      for (size_t k = 0; k < ops.size(); ++k) {
        const std::string wop = where + ", operation " + std::to_string(k + 1);
        const toml::table& ot = table(*ops[k], wop);
        Operation op;
        op.kind = text(ot, "kind", wop, true);
        for (const auto& [key, value] : ot) {
          const std::string name(key.str());
          if (name == "kind") continue;
          op.params[name] = param(value, wop + " (" + op.kind + "): parameter \"" + name + "\"");
        }
        sc.operations.push_back(std::move(op));
      }
      sc.targets = set.targets;
      const auto own = array_of_tables(st, "target", where);
      for (size_t k = 0; k < own.size(); ++k) sc.targets.push_back(target(*own[k], where + ", target " + std::to_string(k + 1)));
      set.scenarios.push_back(std::move(sc));
    }
    return set;
  }

 private:
  std::string source_;
};

}  // namespace

ScenarioSet parse_scenarios(const std::string& text, const std::string& source, const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << source << ':' << e.source().begin.line << ':' << e.source().begin.column << ": malformed TOML: "
       << e.description();
    throw InputError(os.str());
  }
  return Reader(source).read(root, base_dir);
}

ScenarioSet read_scenarios(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open scenario file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw FileError("cannot read scenario file " + path);
  return parse_scenarios(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace mriotrace::io
