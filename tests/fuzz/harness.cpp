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

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/scenario_toml.hpp"
#include "mriotrace/io/useeio.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"

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
  const std::string& m = o.error;
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

// ------------------------------------------------------------------ EXIOBASE TSV / zip

/// The base EXIOBASE 3 release (root folder IOT_2011_ixi): 2 regions x 2
/// sectors, 1 category, x.txt, a satellite with 2 stressors and impacts with 1.
const std::vector<std::pair<std::string, std::string>>& exiobase_files() {
  static const std::vector<std::pair<std::string, std::string>> files = {
      {"Z.txt",
       "region\t\tAT\tAT\tBE\tBE\nsector\t\ts1\ts2\ts1\ts2\nregion\tsector\t\t\t\t\n"
       "AT\ts1\t1.5\t2\t0\t0.5\nAT\ts2\t1\t0\t0\t0\r\nBE\ts1\t0\t0\t3\t1E-1\nBE\ts2\t0\t2.5\t1\t0\n"},
      {"Y.txt",
       "region\t\tAT\tBE\ncategory\t\thh\thh\nregion\tsector\t\t\nAT\ts1\t5\t1\nAT\ts2\t6\t0\nBE\ts1\t1\t7\nBE\ts2\t0\t8\n"},
      {"x.txt", "region\tsector\tindout\nAT\ts1\t10\nAT\ts2\t7\nBE\ts1\t11.1\nBE\ts2\t11.5\n"},
      {"unit.txt", "region\tsector\tunit\nAT\ts1\tM.EUR\nAT\ts2\tM.EUR\nBE\ts1\tM.EUR\nBE\ts2\tM.EUR\n"},
      {"file_parameters.json",
       R"({"files":{"Z":{"name":"Z.txt","nr_index_col":"2","nr_header":"2"},)"
       R"("Y":{"name":"Y.txt","nr_index_col":"2","nr_header":"2"},"x":{"name":"x.txt","nr_index_col":2,"nr_header":1}}})"},
      {"satellite/F.txt",
       "region\tAT\tAT\tBE\tBE\nsector\ts1\ts2\ts1\ts2\nstressor\t\t\t\t\nCO2/air\t10\t20\t30\t40\nN2O\t1\t0\t0\t2\n"},
      {"satellite/F_Y.txt", "region\tAT\tBE\ncategory\thh\thh\nstressor\t\t\nCO2/air\t3\t4\nN2O\t0\t0\n"},
      {"satellite/unit.txt", "stressor\tunit\nCO2/air\tkg\nN2O\tkg\n"},
      {"impacts/S.txt", "region\tAT\tAT\tBE\tBE\nsector\ts1\ts2\ts1\ts2\nimpact\t\t\t\t\nGWP100\t1.2\t3\t2.5\t3.5\n"},
      {"impacts/unit.txt", "impact\tunit\nGWP100\tkg CO2 eq\n"},
  };
  return files;
}

/// An input of the exiobase target: byte 0 picks a file of the base release
/// (modulo the number of files + 1), the rest is its new content; the last
/// choice reads the rest as the release's zip archive instead.
Outcome run_exiobase(const std::uint8_t* data, std::size_t size) {
  const auto& files = exiobase_files();
  static const fs::path dir = [&] {
    const fs::path d = scratch() / "exiobase" / "IOT_2011_ixi";
    for (const auto& [name, text] : files) write_file(d / name, text);
    return d.parent_path();
  }();
  const io::ExiobaseOptions options{true, true, 1};
  if (size == 0) return guarded_call([&] { (void)io::read_exiobase3(dir.string(), options); });
  const std::size_t choice = data[0] % (files.size() + 1);
  if (choice == files.size()) {
    const fs::path zip = scratch() / "IOT_2011_ixi.zip";
    write_file(zip, data + 1, size - 1);
    return guarded_call([&] { (void)io::read_exiobase3(zip.string(), options); });
  }
  const fs::path file = dir / "IOT_2011_ixi" / files[choice].first;
  write_file(file, data + 1, size - 1);
  Outcome o = guarded_call([&] { (void)io::read_exiobase3(dir.string(), options); });
  write_file(file, files[choice].second);
  return o;
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
  static const std::vector<TargetInfo> list = {
      {"h5_system_edits", run_h5_system_edits, 320,
       "(offset u32 LE, xor byte) records applied to a valid system file; read results must equal the base's"},
      {"h5_results_edits", run_h5_results_edits, 320,
       "(offset u32 LE, xor byte) records applied to a valid results file; read results must equal the base's"},
      {"h5_bytes", run_h5_bytes, 16384, "arbitrary bytes as an HDF5 file (size % 3 picks load_system/load_results/inspect)"},
      {"toml_scenario", run_toml_scenario, 8192, "scenario file text (parse_scenarios)"},
      {"toml_job", run_toml_job, 8192, "batch job file text (parse_job_text)"},
      {"useeio_json", run_useeio, 8192, "byte 0 picks a file of a USEEIO model folder, the rest is its content"},
      {"exiobase", run_exiobase, 8192, "byte 0 picks a file of an EXIOBASE 3 release (or its zip), the rest is its content"},
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
  } else if (name == "exiobase") {
    const auto& files = exiobase_files();
    for (std::size_t i = 0; i < files.size(); ++i)
      seed(dir, "file" + std::to_string(i), std::string(1, static_cast<char>(i)) + files[i].second, count);
    // The release as a zip, as published (members under IOT_2011_ixi/).
    const fs::path zip_path = fs::path(out) / "release.zip.tmp";
    int err = 0;
    zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) throw std::runtime_error("fuzz seeds: cannot create " + zip_path.string());
    for (const auto& [member, text] : files) {
      zip_source_t* src = zip_source_buffer(z, text.data(), text.size(), 0);
      if (!src || zip_file_add(z, ("IOT_2011_ixi/" + member).c_str(), src, ZIP_FL_OVERWRITE) < 0)
        throw std::runtime_error("fuzz seeds: cannot add " + member + " to the zip");
    }
    if (zip_close(z) != 0) throw std::runtime_error("fuzz seeds: cannot write " + zip_path.string());
    Bytes zip_bytes = read_bytes(zip_path);
    fs::remove(zip_path);
    zip_bytes.insert(zip_bytes.begin(), static_cast<std::uint8_t>(files.size()));
    seed(dir, "zip", zip_bytes.data(), zip_bytes.size(), count);
  } else {
    throw std::invalid_argument("no fuzz target \"" + name + "\"");
  }
  return count;
}

}  // namespace mriotrace::fuzz
