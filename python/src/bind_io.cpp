// Bindings of the file formats (HDF5, USEEIO JSON, EXIOBASE 3, GLORIA, Eora26, OECD ICIO, WIOD 2016, FIGARO) and the synthetic datasets.
// File errors surface as mriotrace.FileError (an OSError).
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <vector>

#include "common.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/eora26.hpp"
#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/figaro.hpp"
#include "mriotrace/io/gloria.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/oecd_icio.hpp"
#include "mriotrace/io/useeio.hpp"
#include "mriotrace/io/wiod2016.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {
namespace {

/// [(name, accounts dict), ...] -> NamedAccounts (copies; needs the GIL).
std::vector<io::NamedAccounts> named_accounts(nb::handle results) {
  std::vector<io::NamedAccounts> out;
  for (nb::handle item : results) {
    nb::tuple pair = nb::cast<nb::tuple>(item);
    MRIOTRACE_CHECK(pair.size() == 2, "results must be (name, accounts dict) pairs");
    out.push_back({nb::cast<std::string>(pair[0]), accounts_from_dict(pair[1])});
  }
  return out;
}

}  // namespace

void python_warnings(const std::vector<std::string>& messages) {
  for (const auto& m : messages)
    if (PyErr_WarnEx(PyExc_UserWarning, m.c_str(), 2) < 0) throw nb::python_error();
}

void bind_io(nb::module_& m) {
  m.def(
      "save",
      [](const std::string& path, const MrioSystem& system, nb::handle results) {
        std::vector<io::NamedAccounts> named = named_accounts(results);
        nb::gil_scoped_release release;
        io::save(path, system, named);
      },
      "path"_a, "system"_a, "results"_a = nb::list(),
      "Write a system and optional results [(name, accounts dict), ...] to an HDF5 file, atomically.");

  m.def(
      "save_results",
      [](const std::string& path, const Labels& labels, nb::handle results) {
        std::vector<io::NamedAccounts> named = named_accounts(results);
        nb::gil_scoped_release release;
        io::save_results(path, labels, named);
      },
      "path"_a, "labels"_a, "results"_a,
      "Write only labels and results [(name, accounts dict), ...] (no system matrices), atomically.");

  m.def(
      "load_system",
      [](const std::string& path) {
        std::optional<MrioSystem> system;
        std::vector<std::string> warnings;
        {
          nb::gil_scoped_release release;
          io::CollectWarnings collect;
          system.emplace(io::load_system(path));
          warnings = collect.messages();
        }
        python_warnings(warnings);
        return std::move(*system);
      },
      "path"_a, "Read the system stored in an HDF5 file (OSError for a missing, truncated or foreign file).");

  m.def(
      "load_results",
      [](const std::string& path) {
        std::vector<io::NamedAccounts> named;
        std::vector<std::string> warnings;
        {
          nb::gil_scoped_release release;
          io::CollectWarnings collect;
          named = io::load_results(path);
          warnings = collect.messages();
        }
        python_warnings(warnings);
        nb::list out;
        for (auto& na : named) out.append(nb::make_tuple(na.name, accounts_to_dict(std::move(na.accounts))));
        return out;
      },
      "path"_a, "All result sets of a file as [(name, accounts dict), ...].");

  m.def(
      "inspect",
      [](const std::string& path) {
        io::FileInfo info;
        std::vector<std::string> warnings;
        {
          nb::gil_scoped_release release;
          io::CollectWarnings collect;
          info = io::inspect(path);
          warnings = collect.messages();
        }
        python_warnings(warnings);
        nb::dict d;
        d["format_version"] = info.format_version;
        d["created_by"] = info.created_by;
        d["has_system"] = info.has_system;
        d["labels"] = nb::cast(std::move(info.labels));
        d["nnz_A"] = info.nnz_A;
        d["result_names"] = nb::cast(info.result_names);
        d["spa_paths"] = info.spa_paths;
        return d;
      },
      "path"_a, "Summary of a file without reading the matrices (dict).");

  m.def(
      "file_format",
      [](const std::string& path) {
        nb::gil_scoped_release release;
        return io::file_format(path);
      },
      "path"_a,
      "The root attribute \"format\" of an HDF5 file (\"mriotrace\", \"mriotrace-batch\", ... or \"\"), read "
      "under the guard; OSError for a missing, non-HDF5 or damaged file.");

  m.attr("FORMAT_VERSION") = io::kFormatVersion;

  m.def(
      "read_useeio",
      [](const std::string& dir, int threads) {
        io::UseeioModel model;
        {
          nb::gil_scoped_release release;
          model = io::read_useeio(dir, threads);
        }
        nb::dict d;
        d["system"] = nb::cast(std::move(model.system));
        d["demand_ids"] = nb::cast(model.demand_ids);
        d["demands"] = to_numpy(std::move(model.demands));
        d["sector_ids"] = nb::cast(model.sector_ids);
        d["sector_names"] = nb::cast(model.sector_names);
        return d;
      },
      "dir"_a, "threads"_a = 0,
      "Read a USEEIO JSON model folder: dict(system, demand_ids, demands (n, d), sector_ids, sector_names).");

  m.def(
      "read_exiobase3",
      [](const std::string& path, bool satellite, bool impacts, int threads) {
        io::ExiobaseTable table = [&] {  // constructed in place (no copy of the sparse A)
          nb::gil_scoped_release release;
          return io::read_exiobase3(path, io::ExiobaseOptions{satellite, impacts, threads});
        }();
        nb::dict d;
        d["system"] = nb::cast(table.system);  // shares, no copy
        d["root"] = table.root;
        d["kind"] = table.kind;
        d["year"] = table.year;
        d["extensions"] = nb::cast(table.extensions);
        d["extension_rows"] = nb::cast(table.extension_rows);
        return d;
      },
      "path"_a, "satellite"_a = true, "impacts"_a = true, "threads"_a = 0,
      "Read an EXIOBASE 3 zip or folder: dict(system, root, kind, year, extensions, extension_rows).");

  nb::class_<io::GloriaLabels>(m, "GloriaLabels", "Labels of the GLORIA ReadMe workbook (lists of str).")
      .def(nb::init<>())
      .def_rw("regions", &io::GloriaLabels::regions)
      .def_rw("sectors", &io::GloriaLabels::sectors)
      .def_rw("final_demand", &io::GloriaLabels::final_demand)
      .def_rw("value_added", &io::GloriaLabels::value_added)
      .def_rw("sat_indicator", &io::GloriaLabels::sat_indicator)
      .def_rw("sat_head", &io::GloriaLabels::sat_head)
      .def_rw("sat_unit", &io::GloriaLabels::sat_unit);

  m.def(
      "read_gloria",
      [](const std::string& mrio, const std::string& satellites, const io::GloriaLabels& labels, const std::string& year,
         const std::string& version, const std::string& price, const std::string& construct, bool with_satellites,
         bool value_added, int threads) {
        io::GloriaOptions o;
        o.year = year;
        o.version = version;
        o.price = price;
        o.construct = construct;
        o.satellites = with_satellites;
        o.value_added = value_added;
        o.threads = threads;
        io::GloriaTable table = [&] {
          nb::gil_scoped_release release;
          return io::read_gloria(mrio, satellites, labels, o);
        }();
        nb::dict d;
        d["system"] = nb::cast(table.system);
        d["year"] = table.year;
        d["version"] = table.version;
        d["dropped_regions"] = nb::cast(table.dropped_regions);
        d["files"] = nb::cast(table.files);
        return d;
      },
      "mrio"_a, "satellites"_a, "labels"_a, "year"_a = "", "version"_a = "", "price"_a = "bp", "construct"_a = "B",
      "with_satellites"_a = true, "value_added"_a = true, "threads"_a = 0,
      "Read GLORIA's csv tables (zip or folder) with its labels: dict(system, year, version, dropped_regions, files).");

  m.def(
      "read_eora26",
      [](const std::string& path, const std::string& year, const std::string& price, const std::string& money_unit,
         bool satellites, bool value_added, int threads) {
        io::Eora26Table table = [&] {
          nb::gil_scoped_release release;
          return io::read_eora26(path, io::Eora26Options{year, price, money_unit, satellites, value_added, threads});
        }();
        nb::dict d;
        d["system"] = nb::cast(table.system);
        d["year"] = table.year;
        d["price"] = table.price;
        d["dropped"] = nb::cast(table.dropped);
        d["dropped_flows"] = table.dropped_flows;
        return d;
      },
      "path"_a, "year"_a = "", "price"_a = "bp", "money_unit"_a = "k.USD", "satellites"_a = true,
      "value_added"_a = true, "threads"_a = 0,
      "Read an Eora26 zip or folder: dict(system, year, price, dropped, dropped_flows).");

  m.def(
      "read_figaro",
      [](const std::string& path, const std::string& year, const std::string& kind, int threads) {
        io::FigaroTable table = [&] {
          nb::gil_scoped_release release;
          return io::read_figaro(path, io::FigaroOptions{year, kind, threads});
        }();
        nb::dict d;
        d["system"] = nb::cast(table.system);
        d["file"] = table.file;
        d["year"] = table.year;
        d["kind"] = table.kind;
        return d;
      },
      "path"_a, "year"_a = "", "kind"_a = "", "threads"_a = 0,
      "Read a FIGARO input-output csv (or a folder / zip of them): dict(system, file, year, kind).");

  m.def(
      "read_gloria_sut",
      [](const std::string& mrio, const std::string& satellites, const io::GloriaLabels& labels, const std::string& year,
         const std::string& version, const std::string& price, bool with_satellites, bool value_added, int threads) {
        io::GloriaOptions o;
        o.year = year;
        o.version = version;
        o.price = price;
        o.satellites = with_satellites;
        o.value_added = value_added;
        o.threads = threads;
        auto* sut = new io::GloriaSut;
        {
          nb::gil_scoped_release release;
          try {
            *sut = io::read_gloria_sut(mrio, satellites, labels, o);
          } catch (...) {
            delete sut;
            throw;
          }
        }
        sut->U.makeCompressed();
        sut->V.makeCompressed();
        nb::capsule owner(sut, [](void* p) noexcept { delete static_cast<io::GloriaSut*>(p); });
        nb::dict d;
        d["regions"] = nb::cast(sut->regions);
        d["U"] = csc_views(sut->U, owner);  // views kept alive by the capsule
        d["V"] = csc_views(sut->V, owner);
        d["Y"] = to_numpy(std::move(sut->Y));
        d["VA"] = to_numpy(std::move(sut->VA));
        d["TQ"] = to_numpy(std::move(sut->TQ));
        d["YQ"] = to_numpy(std::move(sut->YQ));
        d["year"] = sut->year;
        d["version"] = sut->version;
        d["dropped_regions"] = nb::cast(sut->dropped_regions);
        d["files"] = nb::cast(sut->files);
        return d;
      },
      "mrio"_a, "satellites"_a, "labels"_a, "year"_a = "", "version"_a = "", "price"_a = "bp",
      "with_satellites"_a = true, "value_added"_a = true, "threads"_a = 0,
      "GLORIA's supply-use tables: dict(regions, U, V as ((n, n), data, indices, indptr) CSC views, Y, VA, TQ, YQ, "
      "year, version, dropped_regions, files).");

  m.def(
      "read_oecd_icio",
      [](const std::string& path, const std::string& year, int threads) {
        io::OecdIcioTable table = [&] {
          nb::gil_scoped_release release;
          return io::read_oecd_icio(path, io::OecdIcioOptions{year, threads});
        }();
        nb::dict d;
        d["system"] = nb::cast(table.system);
        d["file"] = table.file;
        d["year"] = table.year;
        d["merged"] = nb::cast(table.merged);
        return d;
      },
      "path"_a, "year"_a = "", "threads"_a = 0,
      "Read an OECD ICIO 2023 csv (or a zip of them): dict(system, file, year, merged).");

  m.def(
      "read_wiod2016",
      [](const std::string& path, const std::string& sheet,
         const std::vector<std::tuple<std::string, std::string, std::string>>& env) {
        io::WiodOptions options;
        options.sheet = sheet;
        for (const auto& [file, name, unit] : env) options.env.push_back({file, name, unit});
        io::WiodTable table = [&] {
          nb::gil_scoped_release release;
          return io::read_wiod2016(path, options);
        }();
        nb::dict d;
        d["system"] = nb::cast(table.system);
        d["year"] = table.year;
        d["sheet"] = table.sheet;
        d["sector_names"] = nb::cast(table.sector_names);
        d["category_names"] = nb::cast(table.category_names);
        d["factor_rows"] = nb::cast(table.factor_rows);
        d["max_imbalance"] = table.max_imbalance;
        d["imbalance"] = table.imbalance;
        return d;
      },
      "path"_a, "sheet"_a = "", "env"_a = std::vector<std::tuple<std::string, std::string, std::string>>{},
      "Read a WIOD 2016 WIOT .xlsx (env: [(workbook, name, unit)]): dict(system, year, sheet, sector_names, "
      "category_names, factor_rows, max_imbalance, imbalance).");

  const datasets::GeneratorOptions defaults;  // keep the Python defaults in sync with C++
  m.def(
      "generate",
      [](Index regions, Index sectors, Index fd_categories, Index stressors, double domestic_density,
         double trade_density, double domestic_share, double trade_share, bool value_added,
         bool final_demand_stressors, std::uint64_t seed, int threads) {
        datasets::GeneratorOptions o;
        o.regions = regions;
        o.sectors = sectors;
        o.fd_categories = fd_categories;
        o.stressors = stressors;
        o.domestic_density = domestic_density;
        o.trade_density = trade_density;
        o.domestic_share = domestic_share;
        o.trade_share = trade_share;
        o.value_added = value_added;
        o.final_demand_stressors = final_demand_stressors;
        o.seed = seed;
        o.threads = threads;
        nb::gil_scoped_release release;
        return datasets::generate(o);
      },
      "regions"_a = defaults.regions, "sectors"_a = defaults.sectors, "fd_categories"_a = defaults.fd_categories,
      "stressors"_a = defaults.stressors, "domestic_density"_a = defaults.domestic_density,
      "trade_density"_a = defaults.trade_density, "domestic_share"_a = defaults.domestic_share,
      "trade_share"_a = defaults.trade_share, "value_added"_a = defaults.value_added,
      "final_demand_stressors"_a = defaults.final_demand_stressors, "seed"_a = defaults.seed,
      "threads"_a = defaults.threads,
      "A deterministic synthetic system (same seed and options -> same numbers on every platform).");

  m.def(
      "china_demo",
      [] {
        nb::gil_scoped_release release;
        return datasets::china_demo();
      },
      "China 2018, national, 153 NBS sectors, CEADs Scope-1 CO2: REAL data, embedded in the library.");

  m.def(
      "china_synthetic",
      [](std::uint64_t seed) {
        nb::gil_scoped_release release;
        return datasets::china_synthetic(seed);
      },
      "seed"_a = 2017,
      "China's 31 provinces x 42 sectors with real names and SYNTHETIC numbers (CO2, energy).");
}

}  // namespace mriotrace::py
