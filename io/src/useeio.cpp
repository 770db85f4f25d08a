// USEEIO "API" JSON model reader.
//
// Mapping to MrioSystem (see useeio.hpp):
//   sectors.json  "code/location" ids -> regions = locations in order of first
//                 appearance, sectors = codes in order of first appearance;
//                 rows/columns are permuted to region-major order if needed
//   matrix/A.json n x n                -> A
//   matrix/B.json flows x n            -> S (direct flow intensities per USD)
//   matrix/C.json indicators x flows   -> C (optional, with indicators.json)
//   matrix/q.json commodity output     -> x (A is commodity x commodity);
//                 else matrix/x.json when it has n entries (x.json is industry
//                 output, which in state models such as GAEEIO has fewer
//                 entries than there are commodities); else computed, see
//                 computed_output()
//   demands.json + demands/<id>.json   -> demands (n x d); Y column r = the
//                 Consumption/Complete demand of region r's location
#include "mriotrace/io/useeio.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;
using json = nlohmann::json;
namespace fs = std::filesystem;

/// USEEIO files nest 3 levels deep (a list of rows of numbers, a list of
/// objects); deeper documents are refused while parsing. Why: nlohmann's
/// parser is iterative, but printing a value (dump) and copying one recurse,
/// and a damaged file nested a million levels deep ran them out of stack.
constexpr int kMaxJsonDepth = 64;

/// A value as a message shows it: scalars as written (strings cut at 60
/// characters), lists and objects by their size, never by recursion, so a
/// message stays short whatever the file holds.
std::string preview(const json& v) {
  if (v.is_array()) return concat("a list (", v.size(), " entries)");
  if (v.is_object()) return concat("an object (", v.size(), " keys)");
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

json parse_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    throw FileError(concat("cannot read \"", path, "\": ",
                           fs::exists(path, ec) ? "the file cannot be opened" : "no such file"));
  }
  // Parsing from one string is several times faster than from the stream.
  std::ostringstream text;
  text << in.rdbuf();
  const json::parser_callback_t depth_limit = [&](int depth, json::parse_event_t event, json&) {
    if (depth > kMaxJsonDepth && (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start))
      throw FileError(concat("cannot read \"", path, "\": lists or objects are nested more than ", kMaxJsonDepth,
                             " levels deep; a USEEIO file nests at most 3 (the file is damaged)"));
    return true;
  };
  try {
    return json::parse(text.str(), depth_limit);
  } catch (const json::exception& e) {
    throw FileError(concat("cannot read \"", path, "\": not valid JSON (", e.what(), ")"));
  }
}

/// Run `body` on a parsed file, turning a structural surprise (missing key,
/// wrong type) into an InputError that names the file.
template <class Body>
auto with_json(const std::string& path, Body&& body) {
  const json j = parse_json_file(path);
  try {
    return body(j);
  } catch (const json::exception& e) {
    throw InputError(concat("\"", path, "\" has unexpected contents: ", e.what()));
  }
}

void expect_array(const json& j, const std::string& path, const char* of) {
  MRIOTRACE_CHECK(j.is_array(), "\"", path, "\" is not a JSON list; expected a list of ", of);
}

/// Matrices index rows/columns by list position: an "index" field, where
/// present, must agree with it.
void check_index(const json& entry, size_t position, const std::string& path) {
  if (!entry.is_object() || !entry.contains("index")) return;
  // Compared as a whole number: converting 1e300 (or "0") to an integer is
  // not defined, and would let a damaged index pass.
  const json& index = entry.at("index");
  MRIOTRACE_CHECK(index.is_number_integer() && index.get<std::int64_t>() == static_cast<std::int64_t>(position), "\"",
                  path, "\": entry ", position, " has \"index\" ", preview(index),
                  "; expected entries listed in index order (", position, ")");
}

void expect_shape(const Matrix& m, Index rows, Index cols, const std::string& path, const char* meaning) {
  MRIOTRACE_CHECK(m.rows() == rows && m.cols() == cols, "\"", path, "\" has shape ", m.rows(), " x ", m.cols(),
                  "; expected ", rows, " x ", cols, " (", meaning, ")");
}

struct Sector {
  std::string id, code, location, name;
};

std::vector<Sector> read_sectors(const std::string& path) {
  return with_json(path, [&](const json& j) {
    expect_array(j, path, "sector objects");
    MRIOTRACE_CHECK(!j.empty(), "\"", path, "\" lists no sectors");
    std::vector<Sector> out;
    for (const auto& s : j) {
      check_index(s, out.size(), path);
      Sector sec;
      sec.id = s.at("id").get<std::string>();
      const auto slash = sec.id.rfind('/');
      MRIOTRACE_CHECK(slash != std::string::npos && slash > 0 && slash + 1 < sec.id.size(), "\"", path,
                      "\": sector id \"", sec.id, "\" is not of the form code/location");
      sec.code = sec.id.substr(0, slash);
      sec.location = sec.id.substr(slash + 1);
      sec.name = s.value("name", sec.code);
      out.push_back(std::move(sec));
    }
    return out;
  });
}

/// Names and units of flows.json / indicators.json entries.
struct Named {
  std::vector<std::string> names, units;
};

Named read_named(const std::string& path, bool prefer_name) {
  return with_json(path, [&](const json& j) {
    expect_array(j, path, "objects with id and unit");
    Named out;
    for (const auto& e : j) {
      check_index(e, out.names.size(), path);
      out.names.push_back(prefer_name && e.contains("name") ? e.at("name").get<std::string>()
                                                            : e.at("id").get<std::string>());
      out.units.push_back(e.value("unit", ""));
    }
    return out;
  });
}

/// Region-major layout: regions and codes in order of first appearance, and
/// perm[r*N + i] = position in the file of (region r, code i).
struct Layout {
  std::vector<std::string> regions, codes;
  std::vector<Index> perm;
  bool identity = true;
};

Layout region_major_layout(const std::vector<Sector>& sectors, const std::string& path) {
  Layout l;
  std::unordered_map<std::string, Index> region_of, code_of;
  for (const auto& s : sectors) {
    if (region_of.emplace(s.location, static_cast<Index>(l.regions.size())).second) l.regions.push_back(s.location);
    if (code_of.emplace(s.code, static_cast<Index>(l.codes.size())).second) l.codes.push_back(s.code);
  }
  const Index R = static_cast<Index>(l.regions.size()), N = static_cast<Index>(l.codes.size());
  MRIOTRACE_CHECK(static_cast<Index>(sectors.size()) == R * N, "\"", path, "\" lists ", sectors.size(),
                  " sectors for ", R, " locations and ", N, " codes; expected every code in every location (",
                  R * N, " sectors)");
  l.perm.assign(static_cast<size_t>(R * N), -1);
  for (size_t f = 0; f < sectors.size(); ++f) {
    const Index pos = region_of[sectors[f].location] * N + code_of[sectors[f].code];
    MRIOTRACE_CHECK(l.perm[static_cast<size_t>(pos)] < 0, "\"", path, "\" lists sector \"", sectors[f].id, "\" twice");
    l.perm[static_cast<size_t>(pos)] = static_cast<Index>(f);
    l.identity = l.identity && pos == static_cast<Index>(f);
  }
  return l;
}

/// Demand vector of one demands/<id>.json file, in system order.
Vector read_demand(const std::string& path, const std::unordered_map<std::string, Index>& position) {
  return with_json(path, [&](const json& j) {
    expect_array(j, path, "{sector, amount} objects");
    Vector y = Vector::Zero(static_cast<Index>(position.size()));
    for (const auto& e : j) {
      const auto id = e.at("sector").get<std::string>();
      const auto it = position.find(id);
      MRIOTRACE_CHECK(it != position.end(), "\"", path, "\" names sector \"", id,
                      "\", which is not in sectors.json");
      y[it->second] += e.at("amount").get<double>();
    }
    return y;
  });
}

/// Gross output of the n commodities: q.json, else x.json if it has n
/// entries (given as a column or a row), else empty (computed from Y).
Vector read_output(const fs::path& matrix_dir, Index n) {
  for (const char* name : {"q.json", "x.json"}) {
    const auto path = (matrix_dir / name).string();
    if (!fs::exists(path)) continue;
    const Matrix m = read_json_matrix(path);
    const bool is_vector = m.rows() == 1 || m.cols() == 1;
    if (is_vector && m.size() == n) return Eigen::Map<const Vector>(m.data(), n);
    // q is commodity output and must match; x (industry output) may legitimately not.
    MRIOTRACE_CHECK(std::string(name) == "x.json", "\"", path, "\" has shape ", m.rows(), " x ", m.cols(),
                    "; expected a vector of n = ", n, " commodity outputs");
  }
  return {};
}

/// Gross output when no file provides it: x = L y_P, y_P the sum of the
/// regions' Production/Complete demands (final demand for each region's own
/// products, exports included), else of the Y columns.
///
/// Why not L * sum(Y): USEEIO's Consumption demands are what residents buy,
/// imports included, with negative entries for scrap, used goods and the
/// rest-of-world adjustment, so L * sum(Y) is not the economy's output (in
/// USEEIO v2.1.20-GHG it is negative for used goods). The production demand
/// is the one the output balances: for GAEEIO, L y_P reproduces q.json to 3e-6.
/// Entries that come out negative by less than 1e-5 of the largest output are
/// set to 0: that is the rounding of the published demand files (amounts in
/// whole millions of USD), e.g. -3.4e6 USD for noncomparable imports, which
/// the economy does not produce. Larger negatives are left for
/// MrioSystem::build to reject with the sector's name.
Vector computed_output(const SparseMatrix& A, const Vector& y, int threads) {
  const LeontiefSolver solver(A, SolverOptions{SolverKind::Auto, threads});
  Vector x = solver.solve(y);
  const double tolerance = 1e-5 * x.cwiseAbs().maxCoeff();
  for (Index j = 0; j < x.size(); ++j)
    if (x[j] < 0 && x[j] >= -tolerance) x[j] = 0;
  return x;
}

}  // namespace

Matrix read_json_matrix(const std::string& path) {
  return with_json(path, [&](const json& j) {
    expect_array(j, path, "rows (a row-major matrix)");
    const Index rows = static_cast<Index>(j.size());
    const Index cols = rows > 0 && j[0].is_array() ? static_cast<Index>(j[0].size()) : 0;
    Matrix m(rows, cols);
    for (Index i = 0; i < rows; ++i) {
      const json& row = j[static_cast<size_t>(i)];
      MRIOTRACE_CHECK(row.is_array() && static_cast<Index>(row.size()) == cols, "\"", path, "\": row ", i,
                      " is not a list of ", cols, " numbers (as the first row)");
      for (Index c = 0; c < cols; ++c) {
        const json& v = row[static_cast<size_t>(c)];
        MRIOTRACE_CHECK(v.is_number(), "\"", path, "\": entry (", i, ", ", c, ") is ", preview(v),
                        "; expected a number");
        m(i, c) = v.get<double>();
      }
    }
    return m;
  });
}

UseeioModel read_useeio(const std::string& dir, int threads) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw FileError(concat("cannot read USEEIO model \"", dir, "\": not a directory"));
  const fs::path mdir = root / "matrix";
  auto in_model = [&](const fs::path& rel) { return (root / rel).string(); };

  const auto sectors = read_sectors(in_model("sectors.json"));
  const Layout layout = region_major_layout(sectors, in_model("sectors.json"));
  const Index n = static_cast<Index>(sectors.size());
  const Index R = static_cast<Index>(layout.regions.size());
  const auto& perm = layout.perm;

  UseeioModel model;
  std::unordered_map<std::string, Index> position;  // sector id -> system position
  for (Index p = 0; p < n; ++p) {
    const Sector& s = sectors[static_cast<size_t>(perm[static_cast<size_t>(p)])];
    model.sector_ids.push_back(s.id);
    model.sector_names.push_back(s.name);
    position.emplace(s.id, p);
  }

  const Named flows = read_named(in_model("flows.json"), false);
  const Index k = static_cast<Index>(flows.names.size());

  SystemInput in;
  Labels& l = in.labels;
  l.regions = layout.regions;
  l.sectors = layout.codes;
  l.fd_categories = {"final demand"};
  l.stressors = flows.names;
  l.stressor_units = flows.units;
  l.monetary_unit = "USD";

  Matrix A = read_json_matrix((mdir / "A.json").string());
  expect_shape(A, n, n, (mdir / "A.json").string(), "sectors x sectors, as sectors.json");
  Matrix B = read_json_matrix((mdir / "B.json").string());
  expect_shape(B, k, n, (mdir / "B.json").string(), "flows x sectors, as flows.json and sectors.json");
  if (!layout.identity) {
    A = A(perm, perm).eval();
    B = B(Eigen::all, perm).eval();
  }
  in.A = A.sparseView();  // drops exact zeros only
  in.S = std::move(B);

  if (fs::exists(mdir / "C.json")) {
    const Named ind = read_named(in_model("indicators.json"), true);
    Matrix C = read_json_matrix((mdir / "C.json").string());
    expect_shape(C, static_cast<Index>(ind.names.size()), k, (mdir / "C.json").string(),
                 "indicators x flows, as indicators.json and flows.json");
    l.indicators = ind.names;
    l.indicator_units = ind.units;
    in.C = std::move(C);
  }

  in.x = read_output(mdir, n);
  if (in.x.size() > 0 && !layout.identity) in.x = in.x(perm).eval();

  // Demands: every listed vector; per region its Consumption/Complete one as Y
  // and its Production/Complete one towards the computed output.
  in.Y = Matrix::Zero(n, R);
  Vector production = Vector::Zero(n);
  bool has_production = false;
  if (fs::exists(in_model("demands.json"))) {
    struct DemandInfo {
      std::string id, type, system, location;
    };
    const auto infos = with_json(in_model("demands.json"), [&](const json& j) {
      expect_array(j, in_model("demands.json"), "demand descriptions");
      std::vector<DemandInfo> out;
      for (const auto& d : j)
        out.push_back({d.at("id").get<std::string>(), d.value("type", ""), d.value("system", ""),
                       d.value("location", "")});
      return out;
    });
    model.demands.resize(n, static_cast<Index>(infos.size()));
    for (size_t j = 0; j < infos.size(); ++j) {
      const auto& d = infos[j];
      // The id names a file in demands/: it must not reach outside it.
      MRIOTRACE_CHECK(!d.id.empty() && d.id.find('/') == std::string::npos && d.id != "..", "\"",
                      in_model("demands.json"), "\": demand id \"", d.id, "\" is not a plain file name");
      model.demand_ids.push_back(d.id);
      model.demands.col(static_cast<Index>(j)) = read_demand(in_model(fs::path("demands") / (d.id + ".json")), position);
      const auto region = std::find(l.regions.begin(), l.regions.end(), d.location);
      if (region == l.regions.end() || d.system != "Complete") continue;
      if (d.type == "Consumption") in.Y.col(region - l.regions.begin()) = model.demands.col(static_cast<Index>(j));
      if (d.type == "Production") {
        production += model.demands.col(static_cast<Index>(j));
        has_production = true;
      }
    }
  } else {
    model.demands.resize(n, 0);
  }

  const char* x_source = "x from matrix/q.json or matrix/x.json";
  try {
    if (in.x.size() == 0) {
      x_source = has_production ? "x computed as L * (sum of the Production/Complete demands)"
                                : "x computed as L * (sum of Y)";
      in.x = computed_output(in.A, has_production ? production : Vector(in.Y.rowwise().sum()), threads);
    }
    model.system = MrioSystem::build(std::move(in), threads);
  } catch (const InputError& e) {
    throw InputError(concat("USEEIO model \"", dir, "\" is inconsistent (", x_source, "): ", e.what()));
  } catch (const NumericError& e) {
    throw NumericError(concat("USEEIO model \"", dir, "\" (", x_source, "): ", e.what()));
  }
  return model;
}

}  // namespace mriotrace::io
