// The fuzz targets (see harness.hpp): fixed valid base inputs, made in this
// process at first use, and one function per reader.
#include "harness.hpp"

#include <unistd.h>
#include <zip.h>

#include <algorithm>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/batch/runner.hpp"
#include "mriotrace/batch/store.hpp"
#include "mriotrace/io/eora26.hpp"
#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/figaro.hpp"
#include "mriotrace/io/gloria.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/oecd_icio.hpp"
#include "mriotrace/io/path_writer.hpp"
#include "mriotrace/io/scenario_toml.hpp"
#include "mriotrace/io/useeio.hpp"
#include "mriotrace/io/wiod2016.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "mriotrace/tracing.hpp"

namespace mriotrace::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

[[noreturn]] void verdict(const char* kind, const std::string& what) {
  std::fprintf(stderr, "mriotrace-fuzz: %s: %s\n", kind, what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// A per-process scratch folder in memory (/dev/shm) where it exists: every
/// input is written to a file there, since the readers take paths.
const fs::path& scratch() {
  // Never destroyed: the exit handler below runs after function-local statics
  // constructed before its registration are gone.
  static const fs::path* dir = [] {
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    auto* d = new fs::path(base / ("mriotrace-fuzz-" + std::to_string(::getpid())));
    fs::remove_all(*d, ec);
    fs::create_directories(*d);
    // Removed at exit (libFuzzer ends with exit()); a crash leaves it for inspection.
    std::atexit([] {
      std::error_code e;
      fs::remove_all(scratch(), e);
    });
    return d;
  }();
  return *dir;
}

void write_file(const fs::path& path, const void* data, std::size_t size) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path.string());
}
void write_file(const fs::path& path, const std::string& text) { write_file(path, text.data(), text.size()); }

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

/// Run a reader: its own error types are a refusal, any other exception ends the process.
Outcome guarded_call(const std::function<void()>& read) {
  Outcome o;
  try {
    read();
    o.accepted = true;
    ++tally().accepted;
    return o;
  } catch (const InputError& e) {
    o.error = e.what();
  } catch (const FileError& e) {
    o.error = e.what();
  } catch (const NumericError& e) {
    o.error = e.what();
  } catch (const std::exception& e) {
    verdict("UNCLEAN ERROR", std::string("not an mriotrace error: ") + typeid(e).name() + ": " + e.what());
  }
  ++tally().refused;
  // Refusals by the HDF5 read guard (io/src/hdf5.cpp): the library crashed,
  // looped or asked for memory in the child process, which was contained.
  // Only the guard's own messages count: the text targets' messages quote the
  // input, where the fuzzer puts the phrases it sees compared here.
  const std::string& m = o.error;
  if (m.rfind("cannot read \"", 0) != 0) return o;
  if (m.find("crashed the HDF5 library") != std::string::npos) ++tally().guard_crash;
  if (m.find("did not finish within") != std::string::npos) ++tally().guard_timeout;
  if (m.find("MiB of memory for a file of") != std::string::npos) ++tally().guard_memory;
  return o;
}

// ------------------------------------------------------------------ HDF5

/// The base system: 2 regions x 3 sectors, 2 categories, 2 stressors with
/// final-demand emissions, value added and one indicator: every dataset a
/// system file can hold.
MrioSystem make_base_system() {
  SystemInput in;
  Labels& l = in.labels;
  l.regions = {"North", "South"};
  l.sectors = {"farming", "steel", "services"};
  l.fd_categories = {"households", "government"};
  l.stressors = {"CO2", "CH4"};
  l.stressor_units = {"kt", "t"};
  l.indicators = {"GWP100"};
  l.indicator_units = {"kt CO2 eq"};
  l.monetary_unit = "M.EUR";
  const Index n = 6;
  Matrix A = Matrix::Zero(n, n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j)
      if ((i * 7 + j * 3) % 4 != 0) A(i, j) = 0.01 * static_cast<double>(1 + (i * 5 + j * 11) % 13);
  in.A = A.sparseView();
  in.x = Vector(n);
  in.x << 120.5, 300.25, 80.0, 95.75, 410.0, 60.125;
  in.Y = Matrix(n, 4);
  for (Index i = 0; i < n; ++i)
    for (Index f = 0; f < 4; ++f) in.Y(i, f) = 1.0 + static_cast<double>((i * 3 + f * 5) % 7) * 2.5;
  in.S = Matrix(2, n);
  in.S << 0.5, 2.25, 0.125, 0.75, 1.5, 0.0625, 0.001, 0.01, 0.0, 0.002, 0.004, 0.0005;
  in.F_Y = Matrix(2, 4);
  in.F_Y << 3.0, 1.0, 4.0, 0.5, 0.0, 0.0, 0.25, 0.0;
  in.v = Vector(n);
  in.v << 40.0, 90.0, 50.0, 30.0, 150.0, 35.0;
  in.C = Matrix(1, 2);
  in.C << 1.0, 0.028;
  return MrioSystem::build(std::move(in), 1);
}

Accounts footprint(const MrioSystem& s) {
  const LeontiefSolver solver = make_solver(s, SolverOptions{SolverKind::Auto, 1});
  return calc_accounts(s, solver);
}

// Bit-identical comparisons (memcmp: NaN-safe, and -0.0 differs from 0.0).
bool same(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(double)) == 0;
}
bool same(const Vector& a, const Vector& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(double)) == 0;
}
bool same(SparseMatrix a, SparseMatrix b) {
  a.makeCompressed();
  b.makeCompressed();
  return a.rows() == b.rows() && a.cols() == b.cols() && a.nonZeros() == b.nonZeros() &&
         std::memcmp(a.outerIndexPtr(), b.outerIndexPtr(), static_cast<size_t>(a.outerSize() + 1) * sizeof(Index)) == 0 &&
         std::memcmp(a.innerIndexPtr(), b.innerIndexPtr(), static_cast<size_t>(a.nonZeros()) * sizeof(Index)) == 0 &&
         std::memcmp(a.valuePtr(), b.valuePtr(), static_cast<size_t>(a.nonZeros()) * sizeof(double)) == 0;
}
bool same(const Labels& a, const Labels& b) {
  return a.regions == b.regions && a.sectors == b.sectors && a.fd_categories == b.fd_categories &&
         a.stressors == b.stressors && a.stressor_units == b.stressor_units && a.indicators == b.indicators &&
         a.indicator_units == b.indicator_units && a.monetary_unit == b.monetary_unit;
}
/// The first member of two accounts that differs, or "".
std::string accounts_difference(const Accounts& a, const Accounts& b) {
  if (a.stressors != b.stressors) return "stressors";
  if (a.sector_level != b.sector_level || a.regional != b.regional) return "kind";
  if (!same(a.x, b.x)) return "x";
  const std::pair<const char*, const Matrix Accounts::*> members[] = {
      {"M", &Accounts::M},         {"D_cba", &Accounts::D_cba},         {"D_pba", &Accounts::D_pba},
      {"D_imp", &Accounts::D_imp}, {"D_exp", &Accounts::D_exp},         {"D_cba_reg", &Accounts::D_cba_reg},
      {"D_pba_reg", &Accounts::D_pba_reg}, {"D_imp_reg", &Accounts::D_imp_reg},
      {"D_exp_reg", &Accounts::D_exp_reg}, {"Q", &Accounts::Q}};
  for (const auto& [name, m] : members)
    if (!same(a.*m, b.*m)) return name;
  return "";
}

struct H5Base {
  MrioSystem system;
  Accounts accounts;
  Bytes system_file;   ///< save(system, {"stressors": accounts})
  Bytes results_file;  ///< save_results(labels, {"stressors": accounts})
  io::FileInfo system_info, results_info;
};

const H5Base& h5_base() {
  static const H5Base base = [] {
    H5Base b{make_base_system(), {}, {}, {}, {}, {}};
    b.accounts = footprint(b.system);
    const fs::path sys = scratch() / "base-system.h5", res = scratch() / "base-results.h5";
    io::save(sys.string(), b.system, {{"stressors", b.accounts}});
    io::save_results(res.string(), b.system.labels(), {{"stressors", b.accounts}});
    b.system_file = read_bytes(sys);
    b.results_file = read_bytes(res);
    b.system_info = io::inspect(sys.string());
    b.results_info = io::inspect(res.string());
    // What the targets compare against must be what a read of the undamaged
    // file gives (a read that changed numbers would make every comparison fail).
    const MrioSystem again = io::load_system(sys.string());
    if (!same(again.A(), b.system.A()) || !same(again.Y(), b.system.Y()) || !same(again.S(), b.system.S()))
      throw std::runtime_error("fuzz harness: the base system does not read back identically");
    return b;
  }();
  return base;
}

/// An input of the *_edits targets: records of 5 bytes, (offset: uint32
/// little-endian, taken modulo the file's size; xor: one byte), applied in
/// turn to the base file. A trailing partial record is ignored.
Bytes apply_edits(Bytes file, const std::uint8_t* data, std::size_t size) {
  for (std::size_t i = 0; i + 5 <= size; i += 5) {
    const std::uint32_t off = static_cast<std::uint32_t>(data[i]) | static_cast<std::uint32_t>(data[i + 1]) << 8 |
                              static_cast<std::uint32_t>(data[i + 2]) << 16 |
                              static_cast<std::uint32_t>(data[i + 3]) << 24;
    file[off % file.size()] ^= data[i + 4];
  }
  return file;
}

bool same_info(const io::FileInfo& a, const io::FileInfo& b) {
  return a.format_version == b.format_version && a.created_by == b.created_by && a.has_system == b.has_system &&
         same(a.labels, b.labels) && a.nnz_A == b.nnz_A && a.result_names == b.result_names;
}

void check_results(const std::vector<io::NamedAccounts>& got, const std::string& file) {
  const Accounts& want = h5_base().accounts;
  if (got.size() != 1 || got[0].name != "stressors")
    verdict("SILENT CHANGE", file + ": load_results lists other result sets than the base file's");
  if (const std::string d = accounts_difference(got[0].accounts, want); !d.empty())
    verdict("SILENT CHANGE", file + ": load_results gives a different " + d + " than the base file");
}

Outcome h5_system(const Bytes& file) {
  const std::string path = (scratch() / "input.h5").string();
  write_file(path, file.data(), file.size());
  const H5Base& base = h5_base();
  return guarded_call([&] {
    const MrioSystem s = io::load_system(path);
    // Read without complaint: it must be the base system, and give its footprint.
    const char* what = !same(s.labels(), base.system.labels()) ? "labels"
                       : !same(s.A(), base.system.A())         ? "A"
                       : !same(s.x(), base.system.x())         ? "x"
                       : !same(s.Y(), base.system.Y())         ? "Y"
                       : !same(s.S(), base.system.S())         ? "S"
                       : !same(s.F_Y(), base.system.F_Y())     ? "F_Y"
                       : !same(s.v(), base.system.v())         ? "v"
                       : !same(s.C(), base.system.C())         ? "C"
                                                               : nullptr;
    if (what) verdict("SILENT CHANGE", std::string("load_system gives a different ") + what + " than the base file");
    if (const std::string d = accounts_difference(footprint(s), base.accounts); !d.empty())
      verdict("SILENT CHANGE", "the footprint gives a different " + d + " than the base file's");
  });
}

Outcome h5_results(const Bytes& file) {
  const std::string path = (scratch() / "input.h5").string();
  write_file(path, file.data(), file.size());
  return guarded_call([&] { check_results(io::load_results(path), "results file"); });
}

Outcome h5_inspect(const Bytes& file, const io::FileInfo& want) {
  const std::string path = (scratch() / "input.h5").string();
  write_file(path, file.data(), file.size());
  return guarded_call([&] {
    if (!same_info(io::inspect(path), want)) verdict("SILENT CHANGE", "inspect gives a different summary than the base file");
  });
}

// A system file with edits. One guarded read per input (each is a fork):
// the number of records picks load_system (and the footprint), load_results
// (the file's /results) or inspect.
Outcome run_h5_system_edits(const std::uint8_t* data, std::size_t size) {
  const H5Base& base = h5_base();
  const Bytes file = apply_edits(base.system_file, data, size);
  switch ((size / 5) % 3) {
    case 0: return h5_system(file);
    case 1: return h5_results(file);
    default: return h5_inspect(file, base.system_info);
  }
}

// A results-only file (footprint -o x.h5) with edits: load_results or inspect.
Outcome run_h5_results_edits(const std::uint8_t* data, std::size_t size) {
  const H5Base& base = h5_base();
  const Bytes file = apply_edits(base.results_file, data, size);
  return (size / 5) % 2 == 0 ? h5_results(file) : h5_inspect(file, base.results_info);
}

// Arbitrary bytes as an HDF5 file: nothing to compare with, every reader must
// only return or refuse. The size picks the reader (one guarded read per input).
Outcome run_h5_bytes(const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch() / "input.h5").string();
  write_file(path, data, size);
  switch (size % 3) {
    case 0: return guarded_call([&] { (void)footprint(io::load_system(path)); });
    case 1: return guarded_call([&] { (void)io::load_results(path); });
    default: return guarded_call([&] { (void)io::inspect(path); });
  }
}

// ------------------------------------------------------------------ batch store, SPA path files

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// The first field of two batch files' contents that differs, or "".
std::string batch_difference(const batch::BatchFileContents& a, const batch::BatchFileContents& b) {
  if (a.job_text != b.job_text || a.scenario_text != b.scenario_text || a.job_hash != b.job_hash) return "job";
  if (a.total_items != b.total_items || a.shard_index != b.shard_index || a.shard_count != b.shard_count ||
      a.complete != b.complete)
    return "shard";
  if (a.regions != b.regions || a.sectors != b.sectors || a.stressors != b.stressors || a.systems != b.systems ||
      a.scenarios != b.scenarios || a.accounts != b.accounts || a.years != b.years)
    return "labels";
  if (a.format_version != b.format_version || a.created_by != b.created_by) return "format";
  if (a.items.size() != b.items.size()) return "items";
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    const ItemResult &x = a.items[i], &y = b.items[i];
    if (x.id != y.id || x.status != y.status || x.message != y.message || !same_bits(x.seconds, y.seconds) ||
        !same_bits(x.cpu_seconds, y.cpu_seconds) || x.iterations != y.iterations || x.refactored != y.refactored ||
        x.arrays.size() != y.arrays.size())
      return "item " + std::to_string(x.id);
    for (std::size_t j = 0; j < x.arrays.size(); ++j)
      if (x.arrays[j].name != y.arrays[j].name || !same(x.arrays[j].values, y.arrays[j].values))
        return "item " + std::to_string(x.id) + " " + x.arrays[j].name;
  }
  if (a.summary.size() != b.summary.size()) return "summary";
  for (std::size_t i = 0; i < a.summary.size(); ++i)
    if (a.summary[i].name != b.summary[i].name || a.summary[i].dims != b.summary[i].dims ||
        !same_bits(a.summary[i].values, b.summary[i].values))
      return "summary " + a.summary[i].name;
  return "";
}

/// The first field of two path files that differs, or "".
std::string paths_difference(const io::SpaPathFile& a, const io::SpaPathFile& b) {
  if (a.spa_format_version != b.spa_format_version) return "spa_format_version";
  if (!same(a.labels, b.labels)) return "labels";
  if (!same_bits(a.values, b.values)) return "values";
  if (a.depths != b.depths || a.offsets != b.offsets || a.nodes != b.nodes) return "paths";
  if (!same_bits(a.coverage_by_depth, b.coverage_by_depth)) return "coverage_by_depth";
  if (a.stressor != b.stressor || a.unit != b.unit || a.demand != b.demand || a.tau_kind != b.tau_kind ||
      a.truncation != b.truncation)
    return "run description";
  const std::pair<const char*, double io::SpaPathFile::*> numbers[] = {
      {"tau", &io::SpaPathFile::tau},           {"total", &io::SpaPathFile::total},
      {"threshold", &io::SpaPathFile::threshold}, {"coverage", &io::SpaPathFile::coverage},
      {"max_depth", &io::SpaPathFile::max_depth}, {"paths_found", &io::SpaPathFile::paths_found},
      {"nodes_expanded", &io::SpaPathFile::nodes_expanded}, {"search_seconds", &io::SpaPathFile::search_seconds}};
  for (const auto& [name, m] : numbers)
    if (!same_bits(a.*m, b.*m)) return name;
  return "";
}

/// A batch results file and an SPA path file of the base system, written
/// by the product's own writers (run_batch, Hdf5PathWriter) at first use.
struct StoreBase {
  Bytes batch_file, paths_file;
  batch::BatchFileContents batch;
  io::SpaPathFile paths;
};

const StoreBase& store_base() {
  static const StoreBase base = [] {
    StoreBase b;
    const H5Base& h5 = h5_base();
    const fs::path dir = scratch() / "store", system = dir / "base.h5";
    fs::create_directories(dir);
    io::save(system.string(), h5.system);
    // Two Monte Carlo draws (so the file has summaries), a target, two kept accounts.
    const std::string job_text =
        "output = \"batch.h5\"\nseed = 3\nthreads = 1\nkeep = [\"D_cba_reg\", \"Q\"]\n[[systems]]\nfile = \"base.h5\"\n"
        "year = 2017\n[montecarlo]\ndraws = 2\ncv = 0.1\n[target]\nstressor = \"CO2\"\nmax_value = 1e9\n";
    batch::BatchRunOptions run;
    run.threads = 1;
    run.quiet = true;
    batch::run_batch(batch::parse_job_text(job_text, "job.toml", dir.string()), run);
    b.batch_file = read_bytes(dir / "batch.h5");
    b.batch = batch::read_batch_file((dir / "batch.h5").string());

    const MrioSystem& s = h5.system;
    const LeontiefSolver solver = make_solver(s, SolverOptions{SolverKind::Auto, 1});
    const Vector intensity = s.S().row(0).transpose(), demand = s.Y().rowwise().sum();
    SpaOptions options;
    options.tau = 1e-3;
    options.max_depth = 3;
    const fs::path paths = dir / "paths.h5";
    io::Hdf5PathWriter writer(paths.string(), s.labels(), io::SpaRunInfo{"CO2", "kt", "final demand", options});
    writer.finish(spa(s.A(), solver, intensity, demand, options, &writer));
    b.paths_file = read_bytes(paths);
    b.paths = io::read_spa_paths(paths.string());
    if (b.batch.items.empty() || b.paths.values.empty())
      throw std::runtime_error("fuzz harness: the base batch file or path file is empty");
    return b;
  }();
  return base;
}

/// An input of an *_edits target on one of the files above: `difference`
/// reads the edited file (through the guard, as the product does) and names
/// what differs from the base file's contents ("" = nothing); a difference
/// is a silent change.
Outcome run_store_edits(const Bytes& base_file, const std::uint8_t* data, std::size_t size, const char* reader,
                        const std::function<std::string(const std::string& path)>& difference) {
  const Bytes file = apply_edits(base_file, data, size);
  const std::string path = (scratch() / "input.h5").string();
  write_file(path, file.data(), file.size());
  return guarded_call([&] {
    if (const std::string d = difference(path); !d.empty())
      verdict("SILENT CHANGE", std::string(reader) + " gives a different " + d + " than the base file");
  });
}

// A batch results file with edits: read_batch_file must refuse it or give
// the base file's contents, bit for bit.
Outcome run_h5_batch_edits(const std::uint8_t* data, std::size_t size) {
  const StoreBase& base = store_base();
  return run_store_edits(base.batch_file, data, size, "read_batch_file", [&](const std::string& path) {
    return batch_difference(batch::read_batch_file(path), base.batch);
  });
}

// An SPA path file with edits: read_spa_paths must refuse it or give the
// base file's paths and summary, bit for bit.
Outcome run_h5_paths_edits(const std::uint8_t* data, std::size_t size) {
  const StoreBase& base = store_base();
  return run_store_edits(base.paths_file, data, size, "read_spa_paths", [&](const std::string& path) {
    return paths_difference(io::read_spa_paths(path), base.paths);
  });
}

// ------------------------------------------------------------------ TOML

// A scenario file: the text as the file. Relative paths resolve against a
// folder that does not exist (the reader must not need one).
Outcome run_toml_scenario(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return guarded_call([&] { (void)io::parse_scenarios(text, "fuzz.toml", "/nonexistent"); });
}

const std::string& job_scenario_text() {
  static const std::string text =
      "[[scenario]]\nname = \"cleaner steel\"\n[[scenario.operation]]\nkind = \"scale_intensity\"\n"
      "stressor = \"CO2\"\nsector = \"steel\"\nfactor = 0.8\n";
  return text;
}

// A batch job file: the text as the job; a `scenarios = "..."` file is given
// the fixed text above (the job target fuzzes the job's own keys).
Outcome run_toml_job(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return guarded_call([&] { (void)batch::parse_job_text(text, "job.toml", "/nonexistent", &job_scenario_text()); });
}

// ------------------------------------------------------------------ USEEIO JSON

/// The base USEEIO model: 2 locations x 2 codes, 2 flows, 1 indicator, q and
/// two complete demands per location (file name -> text).
const std::vector<std::pair<std::string, std::string>>& useeio_files() {
  static const std::vector<std::pair<std::string, std::string>> files = {
      {"sectors.json",
       R"([{"index":0,"id":"111CA/US-GA","name":"Farms","code":"111CA","location":"US-GA"},)"
       R"({"index":1,"id":"331/US-GA","name":"Primary metals","code":"331","location":"US-GA"},)"
       R"({"index":2,"id":"111CA/RoUS","name":"Farms","code":"111CA","location":"RoUS"},)"
       R"({"index":3,"id":"331/RoUS","name":"Primary metals","code":"331","location":"RoUS"}])"},
      {"flows.json",
       R"([{"index":0,"id":"Carbon dioxide/emission/air/kg","name":"Carbon dioxide","unit":"kg"},)"
       R"({"index":1,"id":"Methane/emission/air/kg","name":"Methane","unit":"kg"}])"},
      {"indicators.json", R"([{"index":0,"id":"GHG","name":"Greenhouse Gases","code":"GHG","unit":"kg CO2 eq"}])"},
      {"matrix/A.json", "[[0.1,0.05,0.02,0.0],[0.02,0.2,0.0,0.01],[0.03,0.0,0.12,0.04],[0.0,0.01,0.05,0.25]]"},
      {"matrix/B.json", "[[0.5,2.0,0.4,1.8],[0.01,0.002,0.012,0.001]]"},
      {"matrix/C.json", "[[1.0,28.0]]"},
      {"matrix/q.json", "[[150.0],[220.5],[180.25],[410.0]]"},
      {"demands.json",
       R"([{"id":"2020_US-GA_Consumption_Complete","year":2020,"type":"Consumption","system":"Complete","location":"US-GA"},)"
       R"({"id":"2020_RoUS_Production_Complete","year":2020,"type":"Production","system":"Complete","location":"RoUS"}])"},
      {"demands/2020_US-GA_Consumption_Complete.json",
       R"([{"sector":"111CA/US-GA","amount":40.5},{"sector":"331/US-GA","amount":12},{"sector":"111CA/RoUS","amount":-1.5e1}])"},
      {"demands/2020_RoUS_Production_Complete.json",
       R"([{"sector":"111CA/RoUS","amount":90},{"sector":"331/RoUS","amount":230.75}])"},
  };
  return files;
}

/// An input of the useeio target: byte 0 picks a file of the base model
/// (modulo the number of files + 1; the last choice is matrix/A.json with
/// matrix/q.json removed, so that x is computed by a solve), the rest is that
/// file's new content. The other files are the base model's.
Outcome run_useeio(const std::uint8_t* data, std::size_t size) {
  const auto& files = useeio_files();
  static const fs::path dir = [&] {
    const fs::path d = scratch() / "useeio";
    for (const auto& [name, text] : files) write_file(d / name, text);
    return d;
  }();
  if (size == 0) return guarded_call([&] { (void)io::read_useeio(dir.string(), 1); });
  const std::size_t choice = data[0] % (files.size() + 1);
  const bool drop_q = choice == files.size();
  const std::string& name = files[drop_q ? 3 : choice].first;
  write_file(dir / name, data + 1, size - 1);
  std::error_code ec;
  if (drop_q) fs::remove(dir / "matrix/q.json", ec);
  Outcome o = guarded_call([&] { (void)io::read_useeio(dir.string(), 1); });
  // Restore the base model for the next input.
  for (const auto& [n, text] : files)
    if (n == name || (drop_q && n == "matrix/q.json")) write_file(dir / n, text);
  return o;
}

// ------------------------------------------------------------------ packages of files

using Files = std::vector<std::pair<std::string, std::string>>;  ///< path -> content

/// Write `members` as a zip archive at `path` (libzip, deflated as publishers ship them).
void write_zip(const fs::path& path, const Files& members) {
  fs::create_directories(path.parent_path());
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) throw std::runtime_error("fuzz harness: cannot create " + path.string());
  for (const auto& [member, text] : members) {
    zip_source_t* src = zip_source_buffer(z, text.data(), text.size(), 0);
    if (!src || zip_file_add(z, member.c_str(), src, ZIP_FL_OVERWRITE) < 0) {
      zip_source_free(src);
      zip_discard(z);
      throw std::runtime_error("fuzz harness: cannot add " + member + " to " + path.string());
    }
  }
  if (zip_close(z) != 0) {
    zip_discard(z);
    throw std::runtime_error("fuzz harness: cannot write " + path.string());
  }
}

/// The files of `files` below `folder` ("" = all), named relative to it or, with keep_folder, as they are.
Files files_under(const Files& files, const std::string& folder, bool keep_folder) {
  Files out;
  const std::string prefix = folder.empty() ? "" : folder + "/";
  for (const auto& [name, text] : files)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(keep_folder ? name : name.substr(prefix.size()), text);
  return out;
}

/// A fixed valid release of one database, as files in a folder: the base
/// input of a byte target. One input replaces one file; the last choice, when
/// the release has an archive form, is the archive's bytes themselves.
struct Package {
  std::string name;  ///< its folder under scratch()
  Files files;       ///< relative path -> content
  /// Read the release in `folder` (throws the reader's errors).
  std::function<void(const fs::path& folder)> read;
  /// The archive form: the files under archive_folder ("" = all; named with
  /// that folder when archive_keeps_folder) zipped as archive_name, read by
  /// read_archive(folder, archive) ("" = no archive form).
  std::string archive_name, archive_folder;
  bool archive_keeps_folder = false;
  std::function<void(const fs::path& folder, const fs::path& archive)> read_archive;

  Files archive_members() const { return files_under(files, archive_folder, archive_keeps_folder); }
  std::size_t choices() const { return files.size() + (archive_name.empty() ? 0 : 1); }
};

/// Write the package's files once, in its folder; returns the folder.
const fs::path& package_folder(const Package& p) {
  static std::map<std::string, fs::path> made;
  auto it = made.find(p.name);
  if (it == made.end()) {
    const fs::path d = scratch() / p.name;
    for (const auto& [name, text] : p.files) write_file(d / name, text);
    it = made.emplace(p.name, d).first;
  }
  return it->second;
}

/// An input of a package target: empty = the base release; else byte 0 picks
/// a file (modulo the number of choices), the rest is its new content; the
/// other files are the base release's.
Outcome run_package(const Package& p, const std::uint8_t* data, std::size_t size) {
  const fs::path& dir = package_folder(p);
  if (size == 0) return guarded_call([&] { p.read(dir); });
  const std::size_t choice = data[0] % p.choices();
  if (choice == p.files.size()) {
    const fs::path archive = scratch() / p.archive_name;
    write_file(archive, data + 1, size - 1);
    return guarded_call([&] { p.read_archive(dir, archive); });
  }
  const auto& [name, text] = p.files[choice];
  write_file(dir / name, data + 1, size - 1);
  Outcome o = guarded_call([&] { p.read(dir); });
  write_file(dir / name, text);  // the base release again for the next input
  return o;
}

/// A number as the publishers' writers print it: shortest round-trip form.
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  const std::string full = buf;
  for (int digits = 1; digits < 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  return full;
}

/// A deterministic sparse flow between two positions: 0 or a small multiple of 0.25.
double flow(std::size_t i, std::size_t j, std::size_t seed) {
  return (i * 5 + j * 11 + seed) % 4 == 0 ? 0.0 : 0.25 * static_cast<double>(1 + (i * 7 + j * 3 + seed) % 9);
}

/// Rows of cells joined by `sep`, each row ended by `eol`.
std::string join_rows(const std::vector<std::vector<std::string>>& rows, char sep, const char* eol) {
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t j = 0; j < row.size(); ++j) out += (j ? std::string(1, sep) : "") + row[j];
    out += eol;
  }
  return out;
}

/// A headerless table of numbers (rows x cols, value(i, j)).
std::string number_table(std::size_t rows, std::size_t cols, char sep, const std::function<double(std::size_t, std::size_t)>& value) {
  std::vector<std::vector<std::string>> cells(rows, std::vector<std::string>(cols));
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) cells[i][j] = num(value(i, j));
  return join_rows(cells, sep, "\n");
}

/// Labels "<region>_<code>", region-major.
std::vector<std::string> cross(const std::vector<std::string>& regions, const std::vector<std::string>& codes) {
  std::vector<std::string> out;
  for (const auto& r : regions)
    for (const auto& c : codes) out.push_back(r + "_" + c);
  return out;
}

// ------------------------------------------------------------------ GLORIA

/// 3 regions (DYE without data, dropped as in the real release) x 2 sectors,
/// GLORIA's 6 final-demand and 6 value-added categories, 2 satellites.
const io::GloriaLabels& gloria_labels() {
  static const io::GloriaLabels l = {
      {"AFG", "DYE", "USA"},
      {"Wheat", "Electric power generation, transmission and distribution"},
      {"Household final consumption P.3h", "Non-profit institutions serving households P.3n",
       "Government final consumption P.3g", "Gross fixed capital formation P.51g", "Changes in inventories P.52",
       "Acquisitions less disposals of valuables P.53"},
      {"Compensation of employees D.1", "Taxes on production D.29", "Subsidies on production D.39",
       "Net operating surplus B.2n", "Net mixed income B.3n", "Consumption of fixed capital K.1"},
      {"'co2_excl_short_cycle_org_c_total_EDGAR_consistent'", "Cropland/pasture"},
      {"Emissions (EDGAR)", "Land use"},
      {"kilotonnes", "1000 ha"}};
  return l;
}

/// The release of 2022, version 59: the MRIO folder (T, Y, V-Results) and
/// the satellite folder (TQ, YQ), comma-separated numbers without labels. T
/// is the supply-use table: each region's block is its industries, then its
/// products; every industry makes its own product (diagonal supply, = q).
const Package& gloria_package() {
  static const Package p = [] {
    const auto& l = gloria_labels();
    const std::size_t R = l.regions.size(), N = l.sectors.size(), c = l.final_demand.size(), v = l.value_added.size(),
                      k = l.sat_indicator.size(), W = 2 * R * N;
    auto live = [&](std::size_t region) { return l.regions[region] != "DYE"; };
    auto region_of = [&](std::size_t t) { return t / (2 * N); };
    auto is_product = [&](std::size_t t) { return t % (2 * N) >= N; };
    auto fd = [&](std::size_t i, std::size_t j) {  // product row i of T, column j of Y
      return live(region_of(i)) && live(j / c) && is_product(i) ? 20.0 + flow(i, j, 1) * 8 : 0.0;
    };
    auto use = [&](std::size_t i, std::size_t j) {  // product row i, industry column j
      return live(region_of(i)) && live(region_of(j)) && is_product(i) && !is_product(j) ? flow(i, j, 0) : 0.0;
    };
    auto q = [&](std::size_t prod) {
      double s = 0;
      for (std::size_t j = 0; j < W; ++j) s += use(prod, j);
      for (std::size_t j = 0; j < R * c; ++j) s += fd(prod, j);
      return s;
    };
    auto T = [&](std::size_t i, std::size_t j) {
      if (is_product(i)) return use(i, j);
      return live(region_of(i)) && j == i + N ? q(j) : 0.0;  // industry i supplies product i + N
    };
    auto industry_col = [&](std::size_t j, std::size_t region) { return !is_product(j) && live(region); };
    const std::string prefix = "20230314_120secMother_AllCountries_002_", suffix = "-Results_2022_059_Markup001(full).csv";
    const std::string mrio = "GLORIA_MRIOs_59_2022/" + prefix, sat = "GLORIA_SatelliteAccounts_059_2022/" + prefix;
    Package pk;
    pk.name = "gloria";
    pk.files = {
        {mrio + "T" + suffix, number_table(W, W, ',', T)},
        {mrio + "Y" + suffix, number_table(W, R * c, ',', fd)},
        {mrio + "V" + suffix, number_table(R * v, W, ',', [&](std::size_t i, std::size_t j) {
           return industry_col(j, region_of(j)) && i / v == region_of(j) ? 0.5 + flow(i, j, 2) : 0.0;
         })},
        {sat + "TQ" + suffix, number_table(k, W, ',', [&](std::size_t i, std::size_t j) {
           return industry_col(j, region_of(j)) ? 3.0 * flow(i, j, 3) : 0.0;
         })},
        {sat + "YQ" + suffix, number_table(k, R * c, ',', [&](std::size_t i, std::size_t j) {
           return live(j / c) ? flow(i, j, 4) : 0.0;
         })},
    };
    auto read = [](const fs::path& mrio_path, const fs::path& folder) {
      io::GloriaOptions o;
      o.threads = 1;
      (void)io::read_gloria(mrio_path.string(), (folder / "GLORIA_SatelliteAccounts_059_2022").string(),
                            gloria_labels(), o);
    };
    pk.read = [read](const fs::path& folder) { read(folder / "GLORIA_MRIOs_59_2022", folder); };
    pk.archive_name = "GLORIA_MRIOs_59_2022.zip";
    pk.archive_folder = "GLORIA_MRIOs_59_2022";
    pk.read_archive = [read](const fs::path& folder, const fs::path& zip) { read(zip, folder); };
    return pk;
  }();
  return p;
}

// ------------------------------------------------------------------ Eora26

/// Eora26 of 2015 at basic prices, the unpacked folder with the labels
/// inside: 2 countries x 2 sectors and the rest of the world (one row
/// "TOTAL", left out by the reader), 6 categories, 3 value-added rows, 2
/// satellites. Tab-separated, no header rows; T's lines end with a tab, as
/// MATLAB writes them.
const Package& eora26_package() {
  static const Package p = [] {
    const std::vector<std::pair<std::string, std::string>> countries = {{"Afghanistan", "AFG"}, {"Albania", "ALB"}};
    const std::vector<std::string> sectors = {"Agriculture", "Electricity, Gas and Water"};
    const std::vector<std::string> fd = {"Household final consumption P.3h", "Non-profit institutions serving households P.3n",
                                         "Government final consumption P.3g", "Gross fixed capital formation P.51",
                                         "Changes in inventories P.52", "Acquisitions less disposals of valuables P.53"};
    std::vector<std::vector<std::string>> lab_T, lab_FD;
    for (const auto& [name, code] : countries)
      for (const auto& s : sectors) lab_T.push_back({name, code, "Industries", s});
    lab_T.push_back({"Rest of the World", "ROW", "Industries", "TOTAL"});
    auto all = countries;
    all.emplace_back("Rest of the World", "ROW");
    for (const auto& [name, code] : all)
      for (const auto& f : fd) lab_FD.push_back({name, code, "Final Demand", f});
    const std::vector<std::vector<std::string>> lab_Q = {{"Total CO2 emissions from EDGAR (Gg)", "Total"},
                                                         {"Energy Usage (TJ)", "Natural Gas"}};
    const std::vector<std::vector<std::string>> lab_VA = {{"Primary input", "Compensation of employees D.1"},
                                                          {"Primary input", "Taxes on production D.29"},
                                                          {"Primary input", "Net operating surplus B.2n"}};
    const std::size_t n = lab_T.size(), m = lab_FD.size();
    std::string T = number_table(n, n, '\t', [](std::size_t i, std::size_t j) { return flow(i, j, 5); });
    for (std::size_t at = T.find('\n'); at != std::string::npos; at = T.find('\n', at + 2)) T.insert(at, "\t");
    Package pk;
    pk.name = "eora26";
    const std::string d = "Eora26_2015_bp/";
    pk.files = {
        {d + "Eora26_2015_bp_T.txt", T},
        {d + "Eora26_2015_bp_FD.txt", number_table(n, m, '\t', [](std::size_t i, std::size_t j) { return 2.0 + flow(i, j, 6); })},
        {d + "Eora26_2015_bp_VA.txt", number_table(lab_VA.size(), n, '\t', [](std::size_t i, std::size_t j) { return flow(i, j, 7); })},
        {d + "Eora26_2015_bp_Q.txt", number_table(lab_Q.size(), n, '\t', [](std::size_t i, std::size_t j) { return 4 * flow(i, j, 8); })},
        {d + "Eora26_2015_bp_QY.txt", number_table(lab_Q.size(), m, '\t', [](std::size_t i, std::size_t j) { return flow(i, j, 9); })},
        {d + "labels_T.txt", join_rows(lab_T, '\t', "\n")},
        {d + "labels_FD.txt", join_rows(lab_FD, '\t', "\n")},
        {d + "labels_Q.txt", join_rows(lab_Q, '\t', "\n")},
        {d + "labels_VA.txt", join_rows(lab_VA, '\t', "\n")},
    };
    auto read = [](const fs::path& path) {
      io::Eora26Options o;
      o.threads = 1;
      (void)io::read_eora26(path.string(), o);
    };
    pk.read = [read](const fs::path& folder) { read(folder / "Eora26_2015_bp"); };
    pk.archive_name = "Eora26_2015_bp.zip";  // the labels inside the zip (no indices.zip beside it)
    pk.archive_folder = "Eora26_2015_bp";
    pk.read_archive = [read](const fs::path&, const fs::path& zip) { read(zip); };
    return pk;
  }();
  return p;
}

// ------------------------------------------------------------------ OECD ICIO, FIGARO (wide tables)

/// One wide csv table: header (corner, then the region x code columns, the
/// region x category columns, [OUT]); the region x code rows (Z, Y); then
/// the factor rows. Labels quoted when `quote` (as R's write.csv and Excel
/// write them), CRLF line ends. `zero(label)`: rows and columns left empty.
std::string wide_csv(const std::string& corner, const std::vector<std::string>& labels, const std::vector<std::string>& fd,
                     const std::vector<std::string>& factors, bool out_column, bool quote,
                     const std::function<bool(const std::string&)>& zero) {
  const std::size_t n = labels.size(), m = fd.size();
  auto label = [&](const std::string& s) { return quote ? "\"" + s + "\"" : s; };
  auto z = [&](std::size_t i, std::size_t j) { return zero(labels[i]) || zero(labels[j]) ? 0.0 : flow(i, j, 10); };
  auto y = [&](std::size_t i, std::size_t j) { return zero(labels[i]) ? 0.0 : 6.0 + flow(i, j, 11) * 4; };
  std::vector<std::vector<std::string>> rows(1, {label(corner)});
  for (const auto& s : labels) rows[0].push_back(label(s));
  for (const auto& s : fd) rows[0].push_back(label(s));
  if (out_column) rows[0].push_back(label("OUT"));
  std::vector<double> col_z(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::string> row = {label(labels[i])};
    double x = 0;
    for (std::size_t j = 0; j < n; ++j) row.push_back(num(z(i, j))), x += z(i, j), col_z[j] += z(i, j);
    for (std::size_t j = 0; j < m; ++j) row.push_back(num(y(i, j))), x += y(i, j);
    if (out_column) row.push_back(num(x));
    rows.push_back(std::move(row));
  }
  for (std::size_t k = 0; k < factors.size(); ++k) {
    std::vector<std::string> row = {label(factors[k])};
    for (std::size_t j = 0; j < n + m; ++j) row.push_back(num(j < n && zero(labels[j]) ? 0.0 : flow(k, j, 12) / 2));
    if (out_column) row.push_back("0");
    rows.push_back(std::move(row));
  }
  return join_rows(rows, ',', "\r\n");
}

/// The ICIO 2023 "extended" csv of 2019: AUS, CHN, MEX, ROW and the splits
/// MX1, MX2, CN1, CN2 (after ROW; their flows are CHN's and MEX's, which
/// have no rows or columns of their own in Z) x 2 industries, the 6
/// final-demand categories, rows TLS, VA, OUT and the OUT column.
const Package& oecd_icio_package() {
  static const Package p = [] {
    const std::vector<std::string> industries = {"A01_02", "B05_06"}, fd = {"HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"};
    const std::vector<std::string> regions = {"AUS", "CHN", "MEX", "ROW"};
    std::vector<std::string> blocks = regions;
    for (const char* s : {"MX1", "MX2", "CN1", "CN2"}) blocks.emplace_back(s);
    Package pk;
    pk.name = "oecd_icio";
    pk.files = {{"ICIO2023_2019.csv", wide_csv("V1", cross(blocks, industries), cross(regions, fd), {"TLS", "VA", "OUT"},
                                               true, true, [](const std::string& s) {
                                                 return s.rfind("CHN_", 0) == 0 || s.rfind("MEX_", 0) == 0;
                                               })}};
    auto read = [](const fs::path& path) {
      io::OecdIcioOptions o;
      o.threads = 1;
      (void)io::read_oecd_icio(path.string(), o);
    };
    pk.read = [read](const fs::path& folder) { read(folder / "ICIO2023_2019.csv"); };
    pk.archive_name = "ICIO-2016-2020-extended.zip";
    pk.read_archive = [read](const fs::path&, const fs::path& zip) { read(zip); };
    return pk;
  }();
  return p;
}

/// FIGARO's industry-by-industry table of 2021 (23rd edition): AT, FI, FIGW1
/// (rest of the world) x 2 industries, the 5 final-demand categories, three
/// value-added and tax rows. Read from its folder (as Eurostat serves the
/// csv files) or a zip of them.
const Package& figaro_package() {
  static const Package p = [] {
    const std::vector<std::string> regions = {"AT", "FI", "FIGW1"};
    Package pk;
    pk.name = "figaro";
    pk.files = {{"matrix_eu-ic-io_ind-by-ind_23ed_2021.csv",
                 wide_csv("rowLabels", cross(regions, {"A01", "C10T12"}), cross(regions, {"P3_S13", "P3_S14", "P3_S15", "P51G", "P5M"}),
                          {"W2_D21X31", "W2_D1", "W2_B2A3G"}, false, false, [](const std::string&) { return false; })}};
    auto read = [](const fs::path& path) {
      io::FigaroOptions o;
      o.threads = 1;
      (void)io::read_figaro(path.string(), o);
    };
    pk.read = read;
    pk.archive_name = "FIGARO.zip";
    pk.read_archive = [read](const fs::path&, const fs::path& zip) { read(zip); };
    return pk;
  }();
  return p;
}

// ------------------------------------------------------------------ WIOD 2016 (xlsx)

using XlsxCell = std::variant<std::monostate, std::string, double>;
using XlsxSheet = std::pair<std::string, std::vector<std::vector<XlsxCell>>>;  ///< name, rows from row 1, columns from A

/// The parts of an .xlsx workbook (Office Open XML, as Excel writes it: one
/// worksheet part per sheet, every text in the shared strings), under `folder`.
Files xlsx_parts(const std::string& folder, const std::vector<XlsxSheet>& sheets) {
  auto column = [](std::size_t c) {
    std::string s;
    for (std::size_t k = c + 1; k > 0; k = (k - 1) / 26) s.insert(s.begin(), static_cast<char>('A' + (k - 1) % 26));
    return s;
  };
  auto escape = [](const std::string& t) {
    std::string out;
    for (char ch : t) out += ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : std::string(1, ch);
    return out;
  };
  const std::string ns = R"(xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main")";
  const std::string rns = R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships")";
  std::vector<std::string> strings;
  std::map<std::string, std::size_t> string_index;
  std::string workbook = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook " + ns + " " + rns + "><sheets>";
  std::string rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                     "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">";
  std::string types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                      "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>";
  Files parts;
  for (std::size_t s = 0; s < sheets.size(); ++s) {
    const std::string id = std::to_string(s + 1);
    workbook += "<sheet name=\"" + escape(sheets[s].first) + "\" sheetId=\"" + id + "\" r:id=\"rId" + id + "\"/>";
    rels += "<Relationship Id=\"rId" + id +
            "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet" +
            id + ".xml\"/>";
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet " + ns + "><sheetData>";
    const auto& rows = sheets[s].second;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      xml += "<row r=\"" + std::to_string(r + 1) + "\">";
      for (std::size_t c = 0; c < rows[r].size(); ++c) {
        const XlsxCell& cell = rows[r][c];
        const std::string ref = column(c) + std::to_string(r + 1);
        if (const auto* text = std::get_if<std::string>(&cell)) {
          const auto [it, added] = string_index.emplace(*text, strings.size());
          if (added) strings.push_back(*text);
          xml += "<c r=\"" + ref + "\" t=\"s\"><v>" + std::to_string(it->second) + "</v></c>";
        } else if (const auto* value = std::get_if<double>(&cell)) {
          xml += "<c r=\"" + ref + "\"><v>" + num(*value) + "</v></c>";
        }
      }
      xml += "</row>";
    }
    parts.emplace_back(folder + "/xl/worksheets/sheet" + id + ".xml", xml + "</sheetData></worksheet>");
  }
  std::string shared = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<sst " + ns + " count=\"" +
                       std::to_string(strings.size()) + "\" uniqueCount=\"" + std::to_string(strings.size()) + "\">";
  for (const auto& t : strings) shared += "<si><t>" + escape(t) + "</t></si>";
  parts.emplace(parts.begin(), folder + "/xl/sharedStrings.xml", shared + "</sst>");
  parts.emplace(parts.begin(), folder + "/xl/_rels/workbook.xml.rels", rels + "</Relationships>");
  parts.emplace(parts.begin(), folder + "/xl/workbook.xml", workbook + "</sheets></workbook>");
  parts.emplace(parts.begin(), folder + "/[Content_Types].xml", types + "</Types>");
  return parts;
}

/// WIOT2014_Nov16_ROW.xlsx: AUS and ROW x 2 sectors, the 5 categories, the
/// TOT column and the rows II_fob .. GO, consistent (TOT = Z1 + Y1 = GO =
/// Z'1 + the factor rows; numbers are multiples of 1/4, so the sums are
/// exact); with one environmental account (CO2: a sheet per country, the
/// years 2013 and 2014, a households row and a total row).
const Package& wiod2016_package() {
  static const Package p = [] {
    const std::vector<std::string> regions = {"AUS", "ROW"};
    const std::vector<std::pair<std::string, std::string>> sectors = {
        {"A01", "Crop and animal production, hunting and related service activities"},
        {"D35", "Electricity, gas, steam and air conditioning supply"}};
    const std::vector<std::pair<std::string, std::string>> cats = {
        {"CONS_h", "Final consumption expenditure by households"},
        {"CONS_np", "Final consumption expenditure by non-profit organisations serving households (NPISH)"},
        {"CONS_g", "Final consumption expenditure by government"},
        {"GFCF", "Gross fixed capital formation"},
        {"INVEN", "Changes in inventories and valuables"}};
    const std::size_t R = regions.size(), N = sectors.size(), c = cats.size(), n = R * N, m = R * c;
    std::vector<std::vector<XlsxCell>> rows(6, std::vector<XlsxCell>(4 + n + m + 1));
    rows[0][0] = std::string("World Input-Output Table 2014");
    rows[3][0] = std::string("(millions of US$)");
    for (std::size_t j = 0; j < n + m + 1; ++j) {
      const bool sector = j < n, tot = j == n + m;
      const auto& [code, name] = tot ? std::pair<std::string, std::string>{"TOT", "Total output"}
                                     : sector ? sectors[j % N] : cats[(j - n) % c];
      rows[2][4 + j] = code;
      rows[3][4 + j] = name;
      rows[4][4 + j] = tot ? std::string("TOT") : regions[sector ? j / N : (j - n) / c];
      rows[5][4 + j] = "c" + std::to_string(sector ? j % N + 1 : tot ? 62 : 57 + (j - n) % c);
    }
    auto z = [](std::size_t i, std::size_t j) { return flow(i, j, 13); };
    auto y = [](std::size_t i, std::size_t j) { return 10.0 + flow(i, j, 14) * 4; };
    std::vector<double> x(n, 0.0), col(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<XlsxCell> row = {sectors[i % N].first, sectors[i % N].second, regions[i / N], "c" + std::to_string(i % N + 1)};
      for (std::size_t j = 0; j < n; ++j) row.emplace_back(z(i, j)), x[i] += z(i, j), col[j] += z(i, j);
      for (std::size_t j = 0; j < m; ++j) row.emplace_back(y(i, j)), x[i] += y(i, j);
      row.emplace_back(x[i]);
      rows.push_back(std::move(row));
    }
    const std::vector<std::string> factors = {"TXSP", "EXP_adj", "PURR", "PURNR", "VA", "IntTTM"};
    auto factor = [&](std::size_t k, std::size_t j) {  // VA closes each sector column
      if (factors[k] != "VA") return j < n ? flow(k, j, 15) / 4 : flow(k, j, 16);
      double rest = x[j] - col[j];
      for (std::size_t o = 0; o < factors.size(); ++o)
        if (factors[o] != "VA") rest -= flow(o, j, 15) / 4;
      return rest;
    };
    auto bottom = [&](const std::string& code, const std::string& name, std::size_t k, const std::function<double(std::size_t)>& v,
                      bool with_fd) {
      std::vector<XlsxCell> row = {code, name, std::string("TOT"), "r" + std::to_string(64 + k)};
      for (std::size_t j = 0; j < n + (with_fd ? m : 0); ++j) row.emplace_back(v(j));
      rows.push_back(std::move(row));
    };
    bottom("II_fob", "Total intermediate consumption", 0, [&](std::size_t j) { return j < n ? col[j] : 0.0; }, true);
    for (std::size_t k = 0; k < factors.size(); ++k)
      bottom(factors[k], factors[k], k + 1, [&](std::size_t j) { return factors[k] == "VA" && j >= n ? 0.0 : factor(k, j); },
             true);
    bottom("GO", "Output at basic prices", factors.size() + 1, [&](std::size_t j) { return x[j]; }, false);

    std::vector<XlsxSheet> env;
    for (std::size_t r = 0; r < R; ++r) {
      std::vector<std::vector<XlsxCell>> sheet = {{std::string("Sector"), 2013.0, 2014.0}};
      for (std::size_t i = 0; i < N; ++i) sheet.push_back({sectors[i].first, flow(r, i, 17) * 8, flow(r, i, 18) * 8});
      sheet.push_back({std::string("FC_HH"), 3.5, 4.25});
      sheet.push_back({std::string("Total"), 100.0, 120.0});
      env.emplace_back(regions[r], std::move(sheet));
    }
    Package pk;
    pk.name = "wiod2016";
    pk.files = xlsx_parts("WIOT2014_Nov16_ROW", {{"2014", rows}});
    for (auto& part : xlsx_parts("CO2_emissions", env)) pk.files.push_back(std::move(part));
    // Each read zips the parts as they are in the folder (one of them the
    // input) into the two workbooks: the reader takes .xlsx files.
    auto zip_parts = [files = pk.files](const fs::path& folder, const std::string& workbook) {
      Files members;
      for (const auto& [name, text] : files_under(files, workbook, false)) {
        const Bytes b = read_bytes(folder / workbook / name);
        members.emplace_back(name, std::string(b.begin(), b.end()));
      }
      const fs::path out = scratch() / (workbook + ".xlsx");
      write_zip(out, members);
      return out;
    };
    auto read = [zip_parts](const fs::path& folder, const fs::path& wiot) {
      io::WiodOptions o;
      o.env = {{zip_parts(folder, "CO2_emissions").string(), "CO2", "kt"}};
      (void)io::read_wiod2016(wiot.string(), o);
    };
    pk.read = [read, zip_parts](const fs::path& folder) { read(folder, zip_parts(folder, "WIOT2014_Nov16_ROW")); };
    pk.archive_name = "WIOT2014_Nov16_ROW.xlsx";
    pk.archive_folder = "WIOT2014_Nov16_ROW";
    pk.read_archive = read;
    return pk;
  }();
  return p;
}

// ------------------------------------------------------------------ EXIOBASE TSV / zip

/// The base EXIOBASE 3 release (root folder IOT_2011_ixi): 2 regions x 2
/// sectors, 1 category, x.txt, a satellite with 2 stressors and impacts with
/// 1; its archive form is the release's zip (members under IOT_2011_ixi/).
const Package& exiobase_package() {
  static const Package p = [] {
    Package pk;
    pk.name = "exiobase";
    const std::string d = "IOT_2011_ixi/";
    pk.files = {
        {d + "Z.txt",
         "region\t\tAT\tAT\tBE\tBE\nsector\t\ts1\ts2\ts1\ts2\nregion\tsector\t\t\t\t\n"
         "AT\ts1\t1.5\t2\t0\t0.5\nAT\ts2\t1\t0\t0\t0\r\nBE\ts1\t0\t0\t3\t1E-1\nBE\ts2\t0\t2.5\t1\t0\n"},
        {d + "Y.txt",
         "region\t\tAT\tBE\ncategory\t\thh\thh\nregion\tsector\t\t\nAT\ts1\t5\t1\nAT\ts2\t6\t0\nBE\ts1\t1\t7\nBE\ts2\t0\t8\n"},
        {d + "x.txt", "region\tsector\tindout\nAT\ts1\t10\nAT\ts2\t7\nBE\ts1\t11.1\nBE\ts2\t11.5\n"},
        {d + "unit.txt", "region\tsector\tunit\nAT\ts1\tM.EUR\nAT\ts2\tM.EUR\nBE\ts1\tM.EUR\nBE\ts2\tM.EUR\n"},
        {d + "file_parameters.json",
         R"({"files":{"Z":{"name":"Z.txt","nr_index_col":"2","nr_header":"2"},)"
         R"("Y":{"name":"Y.txt","nr_index_col":"2","nr_header":"2"},"x":{"name":"x.txt","nr_index_col":2,"nr_header":1}}})"},
        {d + "satellite/F.txt",
         "region\tAT\tAT\tBE\tBE\nsector\ts1\ts2\ts1\ts2\nstressor\t\t\t\t\nCO2/air\t10\t20\t30\t40\nN2O\t1\t0\t0\t2\n"},
        {d + "satellite/F_Y.txt", "region\tAT\tBE\ncategory\thh\thh\nstressor\t\t\nCO2/air\t3\t4\nN2O\t0\t0\n"},
        {d + "satellite/unit.txt", "stressor\tunit\nCO2/air\tkg\nN2O\tkg\n"},
        {d + "impacts/S.txt", "region\tAT\tAT\tBE\tBE\nsector\ts1\ts2\ts1\ts2\nimpact\t\t\t\t\nGWP100\t1.2\t3\t2.5\t3.5\n"},
        {d + "impacts/unit.txt", "impact\tunit\nGWP100\tkg CO2 eq\n"},
    };
    auto read = [](const fs::path& path) { (void)io::read_exiobase3(path.string(), io::ExiobaseOptions{true, true, 1}); };
    pk.read = read;
    pk.archive_name = "IOT_2011_ixi.zip";
    pk.archive_folder = "IOT_2011_ixi";
    pk.archive_keeps_folder = true;
    pk.read_archive = [read](const fs::path&, const fs::path& zip) { read(zip); };
    return pk;
  }();
  return p;
}

// ------------------------------------------------------------------ seeds

void seed(const fs::path& dir, const std::string& name, const void* data, std::size_t size, int& count) {
  write_file(dir / name, data, size);
  ++count;
}
void seed(const fs::path& dir, const std::string& name, const std::string& text, int& count) {
  seed(dir, name, text.data(), text.size(), count);
}

/// Edit-list seeds: the base file itself for each reader (0, 1 and 2 records,
/// the records being no-ops: xor 0), and single flips spread over the file,
/// padded with no-op records so that each reader sees some.
void edit_seeds(const fs::path& dir, std::size_t file_size, int& count) {
  auto record = [](std::uint32_t off, std::uint8_t x) {
    return Bytes{static_cast<std::uint8_t>(off), static_cast<std::uint8_t>(off >> 8),
                 static_cast<std::uint8_t>(off >> 16), static_cast<std::uint8_t>(off >> 24), x};
  };
  Bytes noop;
  for (int n = 0; n < 3; ++n) {
    seed(dir, "no-edit-" + std::to_string(n), noop.data(), noop.size(), count);
    const Bytes r = record(0, 0);
    noop.insert(noop.end(), r.begin(), r.end());
  }
  for (std::uint32_t k = 0; k < 24; ++k) {
    const auto off = static_cast<std::uint32_t>(file_size * k / 24 + 3);
    Bytes b = record(off, k % 2 ? 0xFF : 0x01);
    for (std::uint32_t pad = 0; pad < k % 3; ++pad) {
      const Bytes r = record(0, 0);
      b.insert(b.end(), r.begin(), r.end());
    }
    seed(dir, "flip-" + std::to_string(off) + "-" + std::to_string(k % 3), b.data(), b.size(), count);
  }
}

/// Package seeds: each file of the base release behind its choice byte, and
/// the archive form (byte = number of files) zipped from the base files.
void package_seeds(const fs::path& dir, const Package& p, int& count) {
  for (std::size_t i = 0; i < p.files.size(); ++i)
    seed(dir, "file" + std::to_string(i), std::string(1, static_cast<char>(i)) + p.files[i].second, count);
  if (p.archive_name.empty()) return;
  const fs::path zip = dir / "archive.tmp";
  write_zip(zip, p.archive_members());
  Bytes bytes = read_bytes(zip);
  fs::remove(zip);
  bytes.insert(bytes.begin(), static_cast<std::uint8_t>(p.files.size()));
  seed(dir, "archive", bytes.data(), bytes.size(), count);
}

template <const Package& (*P)()>
Outcome run_package_target(const std::uint8_t* data, std::size_t size) {
  return run_package(P(), data, size);
}

/// The package targets, by name.
const std::vector<std::pair<std::string, const Package& (*)()>> kPackages = {
    {"exiobase", exiobase_package}, {"gloria", gloria_package},   {"eora26", eora26_package},
    {"oecd_icio", oecd_icio_package}, {"figaro", figaro_package}, {"wiod2016", wiod2016_package}};

const std::vector<std::string> kJobSeeds = {
    "output = \"out.h5\"\n[[systems]]\nfile = \"y2017.h5\"\nyear = 2017\n",
    "output = \"out.h5\"\nthreads = 2\nseed = 7\nstressors = [\"CO2\"]\nkeep = [\"D_cba_reg\", \"Q\"]\n"
    "scenarios = \"scenarios.toml\"\n[[systems]]\nfile = \"a.h5\"\nname = \"a\"\n[[systems]]\nfile = \"b.h5\"\nname = \"b\"\n"
    "[montecarlo]\ndraws = 100\nperturb = \"Z\"\ncv = 0.1\ncv_Y = 0.05\nsize_rule = [0.5, 0.1]\ntolerance = 1e-10\n"
    "max_iterations = 50\n[[sda]]\nfrom = \"a\"\nto = \"b\"\nmethod = \"exact\"\nsplit_demand = true\n"
    "[target]\naccount = \"D_cba_reg\"\nstressor = \"CO2\"\nregions = [\"North\"]\nmax_change = -0.05\n",
    "output = \"o.h5\"\nscenarios = [\"base\"]\n[[systems]]\nfile = \"s.h5\"\n[target]\nstressor = \"CO2\"\nmax_value = 1e6\n",
};

}  // namespace

Tally& tally() {
  static Tally t;
  return t;
}

const std::vector<TargetInfo>& targets() {
  // base_must_read: the empty input is the undamaged base input (edit and
  // package targets), which must read, else every comparison would be void.
  static const std::vector<TargetInfo> list = {
      {"h5_system_edits", run_h5_system_edits, 320,
       "(offset u32 LE, xor byte) records applied to a valid system file; read results must equal the base's", true},
      {"h5_results_edits", run_h5_results_edits, 320,
       "(offset u32 LE, xor byte) records applied to a valid results file; read results must equal the base's", true},
      {"h5_bytes", run_h5_bytes, 16384, "arbitrary bytes as an HDF5 file (size % 3 picks load_system/load_results/inspect)",
       false},
      {"h5_batch_edits", run_h5_batch_edits, 320,
       "(offset u32 LE, xor byte) records applied to a valid batch results file; read_batch_file must give the base's",
       true},
      {"h5_paths_edits", run_h5_paths_edits, 320,
       "(offset u32 LE, xor byte) records applied to a valid SPA path file; read_spa_paths must give the base's", true},
      {"toml_scenario", run_toml_scenario, 8192, "scenario file text (parse_scenarios)", false},
      {"toml_job", run_toml_job, 8192, "batch job file text (parse_job_text)", false},
      {"useeio_json", run_useeio, 8192, "byte 0 picks a file of a USEEIO model folder, the rest is its content", true},
      {"exiobase", run_package_target<exiobase_package>, 8192,
       "byte 0 picks a file of an EXIOBASE 3 release (or its zip), the rest is its content", true},
      {"gloria", run_package_target<gloria_package>, 8192,
       "byte 0 picks a csv of a GLORIA release (T, Y, V, TQ, YQ, or the MRIO zip), the rest is its content", true},
      {"eora26", run_package_target<eora26_package>, 8192,
       "byte 0 picks a file of an Eora26 folder (tables, labels, or the zip), the rest is its content", true},
      {"oecd_icio", run_package_target<oecd_icio_package>, 8192,
       "byte 0 picks the OECD ICIO csv or a zip of it, the rest is its content", true},
      {"figaro", run_package_target<figaro_package>, 8192,
       "byte 0 picks the FIGARO csv or a zip of it, the rest is its content", true},
      {"wiod2016", run_package_target<wiod2016_package>, 32768,
       "byte 0 picks a part of the WIOT or CO2 workbook (or the WIOT .xlsx), the rest is its content", true},
  };
  return list;
}

const TargetInfo& target(const std::string& name) {
  for (const auto& t : targets())
    if (name == t.name) return t;
  throw std::invalid_argument("no fuzz target \"" + name + "\"");
}

int write_seeds(const std::string& name, const std::string& out, const std::string& source_dir) {
  const fs::path dir(out);
  fs::create_directories(dir);
  int count = 0;
  if (name == "h5_system_edits") {
    edit_seeds(dir, h5_base().system_file.size(), count);
  } else if (name == "h5_results_edits") {
    edit_seeds(dir, h5_base().results_file.size(), count);
  } else if (name == "h5_bytes") {
    seed(dir, "system.h5", h5_base().system_file.data(), h5_base().system_file.size(), count);
    seed(dir, "results.h5", h5_base().results_file.data(), h5_base().results_file.size(), count);
    // Each of the three readers sees each file: sizes padded to every residue mod 3.
    for (std::size_t pad = 1; pad < 3; ++pad)
      for (const Bytes* f : {&h5_base().system_file, &h5_base().results_file}) {
        Bytes b = *f;
        b.resize(b.size() + pad, 0);
        seed(dir, (f == &h5_base().system_file ? "system-pad" : "results-pad") + std::to_string(pad) + ".h5", b.data(),
             b.size(), count);
      }
  } else if (name == "toml_scenario") {
    // The shipped scenario files are the seeds.
    for (const auto& e : fs::recursive_directory_iterator(fs::path(source_dir) / "datasets" / "scenarios"))
      if (e.path().extension() == ".toml") {
        const Bytes b = read_bytes(e.path());
        std::string flat = fs::relative(e.path(), fs::path(source_dir) / "datasets" / "scenarios").string();
        std::replace(flat.begin(), flat.end(), '/', '_');
        seed(dir, flat, b.data(), b.size(), count);
      }
  } else if (name == "toml_job") {
    for (std::size_t i = 0; i < kJobSeeds.size(); ++i) seed(dir, "job" + std::to_string(i) + ".toml", kJobSeeds[i], count);
  } else if (name == "useeio_json") {
    const auto& files = useeio_files();
    for (std::size_t i = 0; i <= files.size(); ++i) {
      const std::string& text = files[i < files.size() ? i : 3].second;
      seed(dir, "file" + std::to_string(i), std::string(1, static_cast<char>(i)) + text, count);
    }
  } else if (name == "h5_batch_edits") {
    edit_seeds(dir, store_base().batch_file.size(), count);
  } else if (name == "h5_paths_edits") {
    edit_seeds(dir, store_base().paths_file.size(), count);
  } else {
    const auto it = std::find_if(kPackages.begin(), kPackages.end(), [&](const auto& p) { return p.first == name; });
    if (it == kPackages.end()) throw std::invalid_argument("no fuzz target \"" + name + "\"");
    package_seeds(dir, it->second(), count);
  }
  return count;
}

}  // namespace mriotrace::fuzz
