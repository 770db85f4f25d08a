// The batch job file (TOML, toml++): parsing and validation. Keys: docs/hpc.md.
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/io/scenario_toml.hpp"

namespace mriotrace::batch {
namespace {

namespace fs = std::filesystem;
using ::mriotrace::detail::concat;

/// Errors name the job file and the key.
class JobContext {
 public:
  explicit JobContext(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw InputError(concat("job file \"", origin_, "\": ", where, ": ", what));
  }
  /// Unknown keys are errors (a typo must not be silently ignored).
  void only(const toml::table& t, const std::string& where, const std::set<std::string>& known) const {
    for (const auto& [key, node] : t) {
      if (known.count(std::string(key.str()))) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(where, concat("unknown key \"", key.str(), "\"; expected one of: ", list));
    }
  }
  std::string string(const toml::table& t, const char* key, const std::string& where, bool required,
                     std::string fallback = {}) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) fail(where, concat("missing key \"", key, "\""));
      return fallback;
    }
    if (!n->is_string()) fail(where, concat("\"", key, "\" must be a string"));
    return std::string(n->as_string()->get());
  }
  std::int64_t integer(const toml::table& t, const char* key, const std::string& where, std::int64_t fallback,
                       std::int64_t min, std::int64_t max = std::numeric_limits<std::int64_t>::max()) const {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_integer()) fail(where, concat("\"", key, "\" must be a whole number"));
    const std::int64_t v = n->as_integer()->get();
    if (v < min) fail(where, concat("\"", key, "\" is ", v, "; expected >= ", min));
    if (v > max) fail(where, concat("\"", key, "\" is ", v, "; expected at most ", max));
    return v;
  }
  /// A number that must be finite (NaN and inf are refused).
  std::optional<double> finite(const toml::table& t, const char* key, const std::string& where) const {
    const auto v = number(t, key, where);
    if (v && !std::isfinite(*v)) fail(where, concat("\"", key, "\" is ", *v, "; expected a finite number"));
    return v;
  }
  std::optional<double> number(const toml::table& t, const char* key, const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    if (!n->is_floating_point()) fail(where, concat("\"", key, "\" must be a number"));
    return n->as_floating_point()->get();
  }
  bool boolean(const toml::table& t, const char* key, const std::string& where, bool fallback) const {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_boolean()) fail(where, concat("\"", key, "\" must be true or false"));
    return n->as_boolean()->get();
  }
  std::vector<std::string> strings(const toml::table& t, const char* key, const std::string& where,
                                   std::vector<std::string> fallback) const {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    std::vector<std::string> out;
    if (n->is_string()) return {std::string(n->as_string()->get())};
    if (!n->is_array()) fail(where, concat("\"", key, "\" must be a string or a list of strings"));
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) fail(where, concat("\"", key, "\" must be a list of strings"));
      out.emplace_back(e.as_string()->get());
    }
    return out;
  }
  const toml::table* table(const toml::table& t, const char* key) const {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(key, concat("[", key, "] must be a table"));
    return n->as_table();
  }
  /// [[key]] arrays of tables (a single [key] table is accepted as one).
  std::vector<const toml::table*> tables(const toml::table& t, const char* key) const {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (n->is_table()) return {n->as_table()};
    if (!n->is_array_of_tables()) fail(key, concat("\"", key, "\" must be [[", key, "]] tables"));
    for (const auto& e : *n->as_array()) out.push_back(e.as_table());
    return out;
  }

 private:
  std::string origin_;
};

/// The first entry of `v` that an earlier one equals, if any (O(n log n)).
std::optional<std::string> first_duplicate(const std::vector<std::string>& v) {
  std::set<std::string_view> seen;
  for (const auto& s : v)
    if (!seen.insert(s).second) return s;
  return std::nullopt;
}

double cv_value(const JobContext& ctx, const toml::table& t, const char* key, double fallback) {
  const auto v = ctx.number(t, key, "[montecarlo]");
  if (!v) return fallback;
  if (!(*v >= 0 && *v <= 10)) ctx.fail("[montecarlo]", concat("\"", key, "\" is ", *v, "; expected a CV in [0, 10]"));
  return *v;
}

}  // namespace

const std::vector<std::string>& batch_account_names() {
  static const std::vector<std::string> names = {"D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg", "Q"};
  return names;
}

ItemGrid BatchJob::grid() const {
  ItemGrid g;
  g.systems = static_cast<Index>(systems.size());
  g.scenarios = static_cast<Index>(scenarios.size());
  g.draws = draws;
  g.sda = static_cast<Index>(sda.size());
  return g;
}

bool BatchJob::with_Q() const {
  return std::any_of(keep.begin(), keep.end(),
                     [](const std::string& a) { return a == "Q" || a == "D_imp_reg" || a == "D_exp_reg"; });
}

namespace {
std::string read_text(const std::string& path, const char* what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw FileError(concat(what, " \"", path, "\" does not exist or is not a file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(concat("cannot read ", what, " \"", path, "\""));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

BatchJob parse_job_text(const std::string& text, const std::string& origin, const std::string& base_dir,
                        const std::string* scenario_text) {
  const JobContext ctx(origin);
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw InputError(concat("job file \"", origin, "\" is not valid TOML: line ", e.source().begin.line,
                            ", column ", e.source().begin.column, ": ", e.description()));
  }
  ctx.only(root, "top level",
           {"output", "threads", "seed", "stressors", "keep", "systems", "montecarlo", "sda", "target", "scenarios"});
  BatchJob job;
  job.path = origin;
  job.text = text;
  job.hash = fnv1a64(text.data(), text.size());
  auto resolve = [&](const std::string& p) {
    const fs::path path(p);
    return path.is_absolute() || base_dir.empty() ? p : (fs::path(base_dir) / path).string();
  };
  job.output = resolve(ctx.string(root, "output", "top level", true));
  if (job.output.empty()) ctx.fail("top level", "\"output\" is empty; expected a results file name (.h5)");
  job.threads = static_cast<int>(ctx.integer(root, "threads", "top level", 0, 0, kMaxJobThreads));
  job.mc.seed = static_cast<std::uint64_t>(ctx.integer(root, "seed", "top level", 0, 0));
  job.stressors = ctx.strings(root, "stressors", "top level", {});
  job.keep = ctx.strings(root, "keep", "top level", job.keep);
  if (job.keep.empty()) ctx.fail("keep", "no accounts to keep; expected some of D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg, Q");
  for (size_t i = 0; i < job.keep.size(); ++i) {
    const std::string& a = job.keep[i];
    const auto& known = batch_account_names();
    if (std::find(known.begin(), known.end(), a) == known.end())
      ctx.fail("keep", concat("unknown account \"", a, "\"; expected some of D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg, Q"));
    if (std::find(job.keep.begin(), job.keep.begin() + static_cast<std::ptrdiff_t>(i), a) != job.keep.begin() + static_cast<std::ptrdiff_t>(i))
      ctx.fail("keep", concat("account \"", a, "\" is listed twice; list each account once"));
  }
  // Duplicates by a set: a pairwise search took minutes on a job listing 10^5 names.
  if (const auto dup = first_duplicate(job.stressors))
    ctx.fail("stressors", concat("stressor \"", *dup, "\" is listed twice; list each stressor once"));

  // [[systems]]
  const auto systems = ctx.tables(root, "systems");
  if (systems.empty()) ctx.fail("systems", "no [[systems]] given; expected at least one system file");
  std::set<std::string> names;
  for (size_t i = 0; i < systems.size(); ++i) {
    const std::string where = concat("[[systems]] #", i + 1);
    ctx.only(*systems[i], where, {"file", "name", "year"});
    BatchSystem s;
    s.file = resolve(ctx.string(*systems[i], "file", where, true));
    s.year = ctx.integer(*systems[i], "year", where, 0, 0);
    s.name = ctx.string(*systems[i], "name", where, false,
                        s.year > 0 ? std::to_string(s.year) : fs::path(s.file).stem().string());
    if (!names.insert(s.name).second)
      ctx.fail(where, concat("system name \"", s.name, "\" is used twice; give each system a unique name"));
    job.systems.push_back(std::move(s));
  }

  // Scenarios: `scenarios = "file.toml"` (a scenario file, mriotrace scenario
  // format; its [base] is ignored: the job's systems are the bases), or
  // ["base"]. Every scenario's edits apply to every system of the job.
  if (const toml::node* n = root.get("scenarios")) {
    if (n->is_string()) {
      job.scenario_file = resolve(std::string(n->as_string()->get()));
      job.scenario_text = scenario_text ? *scenario_text : read_text(job.scenario_file, "scenario file");
      const ScenarioSet set = io::parse_scenarios(job.scenario_text, job.scenario_file,
                                              fs::path(job.scenario_file).parent_path().string());
      if (set.scenarios.empty()) ctx.fail("scenarios", concat("scenario file \"", job.scenario_file, "\" has no [[scenario]]"));
      for (const auto& sc : set.scenarios) {
        if (sc.name == "base") ctx.fail("scenarios", "a scenario may not be called \"base\" (that name is the unedited system)");
        // Items perturb entries by position with the base's draws and solve
        // with the base's factorisation: both need the base's shape.
        if (const auto added = split_sectors(sc); !added.empty())
          ctx.fail("scenarios", concat("scenario \"", sc.name, "\" in \"", job.scenario_file, "\" splits a sector off (integrate, split = \"",
                                       added.front(), "\"); batch jobs need every scenario in the base's shape (their "
                                       "draws perturb entries by position); run it with `mriotrace scenario run` "
                                       "or leave split out"));
        job.scenarios.push_back(sc.name);
        job.scenario_defs.push_back(sc);
      }
    } else {
      const auto list = ctx.strings(root, "scenarios", "top level", {});
      if (!(list.size() == 1 && list[0] == "base"))
        ctx.fail("scenarios", "expected a scenario file name (scenarios = \"scenarios.toml\") or [\"base\"]");
    }
  }
  // A changed scenario file is a changed job.
  if (!job.scenario_text.empty()) job.hash = fnv1a64(job.scenario_text.data(), job.scenario_text.size(), job.hash);

  // [montecarlo]
  if (const toml::table* mc = ctx.table(root, "montecarlo")) {
    ctx.only(*mc, "[montecarlo]",
             {"draws", "perturb", "cv", "cv_A", "cv_Z", "cv_Y", "cv_F", "size_rule", "tolerance", "max_iterations"});
    job.draws = ctx.integer(*mc, "draws", "[montecarlo]", 0, 0, kMaxJobItems - 1);
    const std::string perturb = ctx.string(*mc, "perturb", "[montecarlo]", false, "A");
    if (perturb != "A" && perturb != "Z")
      ctx.fail("[montecarlo]", concat("\"perturb\" is \"", perturb, "\"; expected \"A\" or \"Z\""));
    job.mc.perturb_Z = perturb == "Z";
    const double cv = cv_value(ctx, *mc, "cv", 0.0);
    job.mc.A.cv = cv_value(ctx, *mc, job.mc.perturb_Z ? "cv_Z" : "cv_A", cv);
    job.mc.Y.cv = cv_value(ctx, *mc, "cv_Y", cv);
    job.mc.F.cv = cv_value(ctx, *mc, "cv_F", cv);
    if (const toml::node* sr = mc->get("size_rule")) {
      const toml::array* a = sr->as_array();
      if (!a || a->size() != 2 || !(*a)[0].is_number() || !(*a)[1].is_number())
        ctx.fail("[montecarlo]", "\"size_rule\" must be [cv_small, cv_large], e.g. [0.5, 0.1]");
      const double small = (*a)[0].value<double>().value(), large = (*a)[1].value<double>().value();
      if (!(small >= 0 && large >= 0 && small <= 10 && large <= 10))
        ctx.fail("[montecarlo]", concat("\"size_rule\" CVs are ", small, " and ", large, "; expected values in [0, 10]"));
      for (CvSpec* s : {&job.mc.A, &job.mc.Y, &job.mc.F}) {
        s->size_rule = true;
        s->cv_small = small;
        s->cv_large = large;
      }
    }
    if (const auto tol = ctx.number(*mc, "tolerance", "[montecarlo]")) job.mc.tolerance = *tol;
    job.mc.max_iterations = static_cast<int>(ctx.integer(*mc, "max_iterations", "[montecarlo]", 30, 1, 10000));
    try {
      validate(job.mc);
    } catch (const InputError& e) {
      ctx.fail("[montecarlo]", e.what());
    }
    if (job.draws > 0 && !job.mc.A.active() && !job.mc.Y.active() && !job.mc.F.active() && !mc->get("cv"))
      ctx.fail("[montecarlo]", "draws are requested but no CV is given; set cv (e.g. 0.1) or size_rule");
  }

  // [[sda]]
  const auto sda = ctx.tables(root, "sda");
  std::map<std::string, Index> system_of;  // name -> index, and the SDA names so far: no pairwise searches
  for (size_t s = 0; s < job.systems.size(); ++s) system_of.emplace(job.systems[s].name, static_cast<Index>(s));
  std::set<std::string> sda_names;
  for (size_t i = 0; i < sda.size(); ++i) {
    const std::string where = concat("[[sda]] #", i + 1);
    ctx.only(*sda[i], where, {"from", "to", "method", "split_demand", "name"});
    auto system_index = [&](const char* key) {
      const std::string name = ctx.string(*sda[i], key, where, true);
      if (const auto it = system_of.find(name); it != system_of.end()) return it->second;
      std::string list;
      for (const auto& s : job.systems) list += (list.empty() ? "" : ", ") + s.name;
      ctx.fail(where, concat("\"", key, "\" = \"", name, "\" is not a system of this job; expected one of: ", list));
    };
    BatchSda s;
    s.from = system_index("from");
    s.to = system_index("to");
    try {
      s.method = sda_method_from_string(ctx.string(*sda[i], "method", where, false, "exact"));
    } catch (const InputError& e) {
      ctx.fail(where, e.what());
    }
    s.split_demand = ctx.boolean(*sda[i], "split_demand", where, false);
    s.name = ctx.string(*sda[i], "name", where, false,
                        job.systems[static_cast<size_t>(s.from)].name + "->" + job.systems[static_cast<size_t>(s.to)].name);
    if (s.name.empty() || s.name.find('/') != std::string::npos)
      ctx.fail(where, concat("SDA name \"", s.name, "\" must be non-empty and must not contain '/'"));
    if (!sda_names.insert(s.name).second) ctx.fail(where, concat("SDA name \"", s.name, "\" is used twice"));
    job.sda.push_back(s);
  }

  // [target]
  if (const toml::table* t = ctx.table(root, "target")) {
    ctx.only(*t, "[target]", {"account", "stressor", "regions", "max_change", "max_value"});
    BatchTarget& tg = job.target;
    tg.enabled = true;
    tg.account = ctx.string(*t, "account", "[target]", false, "D_cba_reg");
    if (std::find(job.keep.begin(), job.keep.end(), tg.account) == job.keep.end() || tg.account == "Q")
      ctx.fail("[target]", concat("account \"", tg.account, "\" must be one of the kept regional accounts (keep)"));
    tg.stressor = ctx.string(*t, "stressor", "[target]", true);
    if (!job.stressors.empty() && std::find(job.stressors.begin(), job.stressors.end(), tg.stressor) == job.stressors.end())
      ctx.fail("[target]", concat("stressor \"", tg.stressor, "\" is not among the job's stressors"));
    tg.regions = ctx.strings(*t, "regions", "[target]", {});
    if (const auto dup = first_duplicate(tg.regions))
      ctx.fail("[target]", concat("region \"", *dup, "\" is listed twice in \"regions\""));
    tg.max_change = ctx.finite(*t, "max_change", "[target]");
    tg.max_value = ctx.finite(*t, "max_value", "[target]");
    if (tg.max_change.has_value() == tg.max_value.has_value())
      ctx.fail("[target]", "give exactly one of max_change (relative to the base, e.g. -0.05) or max_value");
  }
  // The item count, without overflow: S x C x (D + 1) + SDA <= kMaxJobItems.
  {
    const long double total = static_cast<long double>(job.systems.size()) *
                                  static_cast<long double>(std::max<size_t>(1, job.scenarios.size())) *
                                  (static_cast<long double>(job.draws) + 1) +
                              static_cast<long double>(job.sda.size());
    if (total > static_cast<long double>(kMaxJobItems))
      ctx.fail("top level", concat("the job has ", job.systems.size(), " systems x ", job.scenarios.size(),
                                   " scenarios x (", job.draws, " draws + 1) + ", job.sda.size(), " SDA = ",
                                   static_cast<double>(total), " items; expected at most ", kMaxJobItems,
                                   " (split it into several jobs)"));
  }
  return job;
}

BatchJob parse_job(const std::string& path) {
  return parse_job_text(read_text(path, "job file"), path, fs::path(path).parent_path().string());
}

std::string shard_output_path(const std::string& output, int index, int count) {
  const fs::path p(output);
  return (p.parent_path() / concat(p.stem().string(), ".shard-", index, "-of-", count, p.extension().string())).string();
}

std::string describe_item(const BatchJob& job, Index id) {
  const ItemKey k = item_key(job.grid(), id);
  if (k.sda >= 0) return concat("item ", id, " (SDA ", job.sda[static_cast<size_t>(k.sda)].name, ")");
  return concat("item ", id, " (system ", job.systems[static_cast<size_t>(k.system)].name, ", scenario ",
                job.scenarios[static_cast<size_t>(k.scenario)], ", ",
                k.draw < 0 ? std::string("unperturbed") : concat("draw ", k.draw), ")");
}

}  // namespace mriotrace::batch
