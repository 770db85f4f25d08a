// Bindings of the scenario engine (scenario.hpp) and the scenario file reader.
//
// Scenarios cross as plain dicts, the shape of the TOML files:
//   {"name": str, "description": str,
//    "operations": [{"kind": str, <parameter>: bool | number | str | [str] | {str: number}}, ...],
//    "targets": [{"indicator": str, "region": str, "change": float}, ...]}
// Results come back as dicts of NumPy arrays (moved, no copy). The GIL is
// released around compute_base and run_scenarios.
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "common.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/scenario_toml.hpp"
#include "mriotrace/scenario.hpp"
#include "mriotrace/scenario_report.hpp"
#include "mriotrace/units.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {
namespace {

std::string py_type(nb::handle h) { return nb::cast<std::string>(nb::str(h.type().attr("__name__"))); }

ParamValue param_from_python(nb::handle v, const std::string& where) {
  if (nb::isinstance<nb::bool_>(v)) return nb::cast<bool>(v);
  if (nb::isinstance<nb::int_>(v) || nb::isinstance<nb::float_>(v)) return nb::cast<double>(v);
  if (nb::isinstance<nb::str>(v)) return nb::cast<std::string>(v);
  if (nb::hasattr(v, "dtype") && nb::hasattr(v, "item") && nb::len(nb::object(v.attr("shape"))) == 0)  // numpy scalar
    return param_from_python(v.attr("item")(), where);
  if (nb::isinstance<nb::dict>(v)) {
    std::map<std::string, double> out;
    for (auto [key, value] : nb::cast<nb::dict>(v)) {
      if (!nb::isinstance<nb::str>(key))
        throw InputError(detail::concat(where, " has a key of type ", py_type(key), "; expected labels (str)"));
      if (nb::isinstance<nb::bool_>(value) || !(nb::isinstance<nb::int_>(value) || nb::isinstance<nb::float_>(value) ||
                                                 nb::hasattr(value, "dtype")))
        throw InputError(detail::concat(where, "[\"", nb::cast<std::string>(key), "\"] is a ", py_type(value),
                                        "; expected a number"));
      out[nb::cast<std::string>(key)] = nb::cast<double>(value.attr("__float__")());
    }
    return out;
  }
  if (nb::isinstance<nb::list>(v) || nb::isinstance<nb::tuple>(v)) {
    std::vector<std::string> out;
    for (nb::handle item : v) {
      if (!nb::isinstance<nb::str>(item))
        throw InputError(detail::concat(where, " holds a ", py_type(item), "; expected a list of labels (str)"));
      out.push_back(nb::cast<std::string>(item));
    }
    return out;
  }
  throw InputError(detail::concat(where, " is a ", py_type(v),
                                  "; expected a number, bool, label, list of labels or dict {label: number}"));
}

nb::object param_to_python(const ParamValue& v) {
  return std::visit([](const auto& x) -> nb::object { return nb::cast(x); }, v);
}

Target target_from_python(nb::handle h, const std::string& where) {
  if (!nb::isinstance<nb::dict>(h)) throw InputError(where + " must be a dict {indicator, region, change}");
  nb::dict d = nb::cast<nb::dict>(h);
  for (auto [key, value] : d) {
    const std::string k = nb::cast<std::string>(nb::str(key));
    if (k != "indicator" && k != "region" && k != "change" && k != "basis" && k != "base_year" &&
        k != "target_year" && k != "baseline_change" && k != "va_growth" && k != "intensity_trend")
      throw InputError(detail::concat(where, ": unknown key \"", k,
                                      "\"; expected indicator, region, change, basis, base_year, target_year, "
                                      "baseline_change, va_growth, intensity_trend"));
  }
  if (!d.contains("indicator") || !d.contains("change"))
    throw InputError(where + ": needs \"indicator\" and \"change\"");
  Target t;
  t.indicator = nb::cast<std::string>(d["indicator"]);
  auto given = [&](const char* key) { return d.contains(key) && !d[key].is_none(); };
  if (given("region")) t.region = nb::cast<std::string>(d["region"]);
  t.change = nb::cast<double>(d["change"]);
  if (given("basis")) t.basis = nb::cast<std::string>(d["basis"]);
  if (given("base_year")) t.base_year = nb::cast<int>(d["base_year"]);
  if (given("target_year")) t.target_year = nb::cast<int>(d["target_year"]);
  if (given("baseline_change")) t.baseline_change = nb::cast<double>(d["baseline_change"]);
  for (const char* key : {"va_growth", "intensity_trend"})
    if (given(key)) {
      auto& rates = std::string(key) == "va_growth" ? t.va_growth : t.intensity_trend;
      const ParamValue v = param_from_python(d[key], detail::concat(where, ": ", key));
      if (const double* x = std::get_if<double>(&v)) rates["*"] = *x;
      else if (const auto* m = std::get_if<std::map<std::string, double>>(&v)) rates = *m;
      else throw InputError(detail::concat(where, ": ", key, " must be an annual rate or a dict {sector or region: rate}"));
    }
  return t;
}

Scenario scenario_from_python(nb::handle h) {
  if (!nb::isinstance<nb::dict>(h))
    throw InputError(detail::concat("a scenario must be a dict (or mriotrace.Scenario); got ", py_type(h)));
  nb::dict d = nb::cast<nb::dict>(h);
  Scenario sc;
  if (!d.contains("name")) throw InputError("a scenario needs a \"name\"");
  sc.name = nb::cast<std::string>(d["name"]);
  if (d.contains("description") && !d["description"].is_none()) sc.description = nb::cast<std::string>(d["description"]);
  if (d.contains("portfolio") && !d["portfolio"].is_none()) sc.portfolio = nb::cast<bool>(d["portfolio"]);
  const std::string where = "scenario \"" + sc.name + "\"";
  if (d.contains("operations"))
    for (nb::handle o : d["operations"]) {
      const std::string wop = detail::concat(where, ", operation ", sc.operations.size() + 1);
      if (!nb::isinstance<nb::dict>(o)) throw InputError(wop + " must be a dict with \"kind\" and parameters");
      Operation op;
      for (auto [key, value] : nb::cast<nb::dict>(o)) {
        const std::string k = nb::cast<std::string>(nb::str(key));
        if (k == "kind")
          op.kind = nb::cast<std::string>(value);
        else if (!value.is_none())
          op.params[k] = param_from_python(value, detail::concat(wop, ": parameter \"", k, "\""));
      }
      if (op.kind.empty()) throw InputError(wop + " has no \"kind\"");
      sc.operations.push_back(std::move(op));
    }
  if (d.contains("targets"))
    for (nb::handle t : d["targets"])
      sc.targets.push_back(target_from_python(t, detail::concat(where, ", target ", sc.targets.size() + 1)));
  return sc;
}

nb::dict target_to_python(const Target& t) {
  nb::dict d;
  d["indicator"] = t.indicator;
  d["region"] = t.region;
  d["change"] = t.change;
  if (!t.basis.empty()) d["basis"] = t.basis;
  if (t.base_year) d["base_year"] = t.base_year;
  if (t.target_year) d["target_year"] = t.target_year;
  if (!std::isnan(t.baseline_change)) d["baseline_change"] = t.baseline_change;
  if (!t.va_growth.empty()) d["va_growth"] = nb::cast(t.va_growth);
  if (!t.intensity_trend.empty()) d["intensity_trend"] = nb::cast(t.intensity_trend);
  return d;
}

nb::dict scenario_to_python(const Scenario& sc) {
  nb::dict d;
  d["name"] = sc.name;
  d["description"] = sc.description;
  nb::list ops, targets;
  for (const auto& op : sc.operations) {
    nb::dict o;
    o["kind"] = op.kind;
    for (const auto& [key, value] : op.params) o[key.c_str()] = param_to_python(value);
    ops.append(o);
  }
  for (const auto& t : sc.targets) targets.append(target_to_python(t));
  d["operations"] = ops;
  d["targets"] = targets;
  if (sc.portfolio) d["portfolio"] = true;
  return d;
}

nb::dict set_to_python(const ScenarioSet& set) {
  nb::dict d;
  d["base_system"] = set.base_system;
  d["monetary_unit"] = set.monetary_unit;
  d["stressor_units"] = nb::cast(set.stressor_units);
  d["industry"] = nb::cast(set.industry);
  nb::list targets, scenarios;
  for (const auto& t : set.targets) targets.append(target_to_python(t));
  for (const auto& s : set.scenarios) scenarios.append(scenario_to_python(s));
  d["targets"] = targets;
  d["scenarios"] = scenarios;
  return d;
}

nb::dict result_to_python(ScenarioResult&& r) {
  nb::dict d;
  d["name"] = r.name;
  d["path"] = r.path;
  d["rank"] = r.rank;
  d["changed_coefficients"] = r.changed_coefficients;
  d["seconds"] = r.seconds;
  d["notes"] = nb::cast(r.notes);
  d["sectors"] = nb::cast(r.sectors);
  d["x"] = to_numpy(std::move(r.x));
  d["va"] = r.va.size() ? to_numpy(std::move(r.va)) : nb::none();
  d["pba"] = to_numpy(std::move(r.pba));
  d["cba"] = to_numpy(std::move(r.cba));
  d["dpba"] = to_numpy(std::move(r.dpba));
  d["dcba"] = to_numpy(std::move(r.dcba));
  d["dQ"] = to_numpy(std::move(r.dQ));
  d["dF"] = to_numpy(std::move(r.dF));
  d["leakage"] = to_numpy(std::move(r.leakage));
  const bool has_int = r.intensity.size() > 0;
  d["intensity"] = has_int ? to_numpy(std::move(r.intensity)) : nb::none();
  d["lmdi_structure"] = has_int ? to_numpy(std::move(r.lmdi_structure)) : nb::none();
  d["lmdi_intensity"] = has_int ? to_numpy(std::move(r.lmdi_intensity)) : nb::none();
  nb::list targets;
  for (const auto& t : r.targets) {
    nb::dict td = target_to_python(t.target);
    td["stressor"] = t.stressor;
    td["base"] = t.base;
    td["scenario"] = t.scenario;
    td["actual_change"] = t.change;
    td["met"] = t.met;
    td["gap"] = t.gap;
    td["basis_used"] = t.basis;
    td["lmdi_structure"] = t.lmdi_structure;
    td["lmdi_intensity"] = t.lmdi_intensity;
    td["baseline"] = t.baseline;
    td["contribution"] = t.contribution;
    td["total"] = t.total;
    td["share"] = t.share;
    td["total_share"] = t.total_share;
    targets.append(td);
  }
  d["targets"] = targets;
  nb::list measures;
  for (auto& me : r.measures) {
    nb::dict md;
    md["label"] = me.label;
    md["dpba"] = to_numpy(std::move(me.dpba));
    md["target_contribution"] = nb::cast(me.target_contribution);
    measures.append(md);
  }
  d["measures"] = measures;
  return d;
}

ScenarioOptions make_options(const std::string& method, Index max_rank, std::vector<std::string> industry,
                             int threads) {
  MRIOTRACE_CHECK(threads >= 0, "threads = ", threads, "; expected >= 0 (0 = OMP_NUM_THREADS or all cores)");
  MRIOTRACE_CHECK(max_rank >= 0, "max_rank = ", max_rank, "; expected >= 0 (0 = automatic)");
  ScenarioOptions o;
  o.method = method;
  o.max_rank = max_rank;
  o.industry = std::move(industry);
  o.threads = threads;
  return o;
}

}  // namespace

void bind_scenario(nb::module_& m) {
  nb::class_<BaseResults>(m, "ScenarioBase",
                          "Base quantities scenarios are compared with (compute once per base system).")
      .def_prop_ro("X", [](const BaseResults& b) { return b.X; }, "(n, R) output induced by each region's final demand")
      .def_prop_ro("x", [](const BaseResults& b) { return b.x; }, "(n,) gross output")
      .def_prop_ro("va", [](const BaseResults& b) { return b.va; }, "(n,) value added (empty without v)")
      .def_prop_ro("pba", [](const BaseResults& b) { return b.pba; }, "(k, R) D_pba_reg")
      .def_prop_ro("cba", [](const BaseResults& b) { return b.cba; }, "(k, R) D_cba_reg")
      .def_prop_ro("Q", [](const BaseResults& b) { return b.Q; }, "(k, R*R), column p*R + r")
      .def_prop_ro("industry", [](const BaseResults& b) { return b.industry; }, "sector indices of the industrial set")
      .def_prop_ro("intensity", [](const BaseResults& b) { return b.intensity; },
                   "(k, R+1) stressor per industrial value added; last column all regions");

  m.def(
      "scenario_base",
      [](const MrioSystem& system, const LeontiefSolver& solver, std::vector<std::string> industry) {
        ScenarioOptions o = make_options("auto", 0, std::move(industry), 0);
        nb::gil_scoped_release release;
        return compute_base(system, solver, o);
      },
      "system"_a, "solver"_a, "industry"_a = std::vector<std::string>{},
      "Base results for scenarios (R solves with the base factorisation).");

  m.def(
      "run_scenarios",
      [](const MrioSystem& system, const LeontiefSolver& solver, const BaseResults& base, nb::list scenarios,
         const std::string& method, Index max_rank, std::vector<std::string> industry, int threads) {
        std::vector<Scenario> scs;
        for (nb::handle h : scenarios) scs.push_back(scenario_from_python(h));
        const ScenarioOptions o = make_options(method, max_rank, std::move(industry), threads);
        std::vector<ScenarioResult> res;
        {
          nb::gil_scoped_release release;
          res = run_scenarios(system, solver, base, scs, o);
        }
        nb::list out;
        for (size_t i = 0; i < res.size(); ++i) {
          // The CLI's report text, from the one formatter (scenario_report.hpp).
          std::string report = scenario_report(system, base, scs[i], res[i]);
          nb::dict d = result_to_python(std::move(res[i]));
          d["report"] = std::move(report);
          out.append(d);
        }
        return out;
      },
      "system"_a, "solver"_a, "base"_a, "scenarios"_a, "method"_a = "auto", "max_rank"_a = 0,
      "industry"_a = std::vector<std::string>{}, "threads"_a = 0,
      "Run scenario dicts against a base; returns one dict of NumPy arrays per scenario.");

  m.def(
      "apply_scenario",
      [](const MrioSystem& system, nb::handle scenario, int threads) {
        const Scenario sc = scenario_from_python(scenario);
        nb::gil_scoped_release release;
        return apply_scenario(system, sc, threads);
      },
      "system"_a, "scenario"_a, "threads"_a = 0, "The edited system of a scenario (validated, all-or-nothing).");

  m.def("parse_scenarios", [](const std::string& text, const std::string& source, const std::string& base_dir) {
    return set_to_python(io::parse_scenarios(text, source, base_dir));
  }, "text"_a, "source"_a = "<string>", "base_dir"_a = "", "Parse scenario TOML text into dicts.");
  m.def("read_scenarios", [](const std::string& path) { return set_to_python(io::read_scenarios(path)); }, "path"_a,
        "Read a scenario TOML file into dicts.");
  m.def("operation_kinds", &operation_kinds, "The scenario operation kinds.");
  m.def("check_declared_units", &check_declared_units, "system"_a, "monetary_unit"_a, "stressor_units"_a,
        "where"_a, "InputError naming both units when a scenario file's declared units differ from the system's.");
  m.def("industry_report", [](const MrioSystem& system, std::vector<std::string> industry) {
    return industry_report(system, make_options("auto", 0, std::move(industry), 0));
  }, "system"_a, "industry"_a = std::vector<std::string>{}, "The CLI's header line on the industrial sectors.");
  m.def("readable", [](double value, const std::string& unit) {
    const ScaledValue s = readable(value, unit);
    return nb::make_tuple(s.value, s.unit);
  }, "value"_a, "unit"_a, "(value, unit) rescaled within the unit's family to a readable magnitude.");
  m.def(
      "operation_parameters",
      [](const std::string& kind) {
        nb::list out;
        for (const auto& p : operation_parameters(kind)) {
          nb::dict d;
          d["name"] = p.name;
          d["type"] = p.type;
          d["unit"] = p.unit;
          d["required"] = p.required;
          d["help"] = p.help;
          out.append(d);
        }
        return out;
      },
      "kind"_a, "Parameters of an operation kind: name, type, unit, required, help.");
  m.def("default_industry_sectors", [](const Labels& l) { return default_industry_sectors(l); }, "labels"_a,
        "The default industrial sectors (NBS codes 02-26, else all).");
}

}  // namespace mriotrace::py
