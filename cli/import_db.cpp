// `mriotrace import-db DATABASE PATH -o out.h5`: a published database (zip,
// folder or csv) read natively and written as an mriotrace HDF5 system, ready
// for `mriotrace footprint`. DATABASE: exiobase3, oecd-icio, gloria, eora26,
// figaro (docs/global-databases.md). GLORIA's labels are in an xlsx workbook,
// read in Python (python-calamine): `gloria` hands over to
// mriotrace.global_readers.import_db_main, as `import` does (cli/import.cpp). Named import-db, not import, while `import`
// (Chinese national tables) lives on another branch; the two are to be merged.
#include "import_db.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "mriotrace/io/eora26.hpp"
#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/figaro.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/oecd_icio.hpp"
#include "import.hpp"

namespace mriotrace::cli {

namespace {

/// The one line printed after an import.
void report(const std::string& what, const MrioSystem& s, const std::string& output) {
  std::cout << "imported " << what << ": " << s.R() << " regions x " << s.N() << " sectors, " << s.c()
            << " final-demand categories, " << s.k() << " stressors (" << s.labels().monetary_unit << ") -> "
            << output << "\n";
}

}  // namespace

ImportDbCommand add_import_db_command(CLI::App& app) {
  struct Options {
    std::string database, path, output, year, kind, release, price = "bp", construct = "B", money_unit = "k.USD";
    bool no_impacts = false, no_satellite = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("import-db", "Import a published global MRIO database (zip or folder) into HDF5");
  cmd->add_option("DATABASE", o->database, "Database format")
      ->required()
      ->check(CLI::IsMember({"exiobase3", "oecd-icio", "gloria", "eora26", "figaro"}));
  cmd->add_option("PATH", o->path,
                  "The published zip (e.g. IOT_2011_ixi.zip, ICIO-2016-2020-extended.zip), its unpacked folder, "
                  "or the csv; gloria: the folder holding GLORIA_MRIOs_*, GLORIA_SatelliteAccounts_*, GLORIA_ReadMe_*")
      ->required();
  cmd->add_flag("--no-satellite", o->no_satellite, "exiobase3: leave out the satellite/ extension");
  cmd->add_flag("--no-impacts", o->no_impacts, "exiobase3: leave out the impacts/ extension");
  cmd->add_option("--year", o->year, "oecd-icio, gloria, eora26, figaro: the year to read when several are there");
  cmd->add_option("--kind", o->kind, "figaro: ixi (industry by industry) or pxp (product by product)")
      ->check(CLI::IsMember({"ixi", "pxp"}));
  cmd->add_option("--release", o->release, "gloria: the release (e.g. 59) when several are there");
  cmd->add_option("--price", o->price, "gloria, eora26: bp (basic prices) or pp (purchasers' prices)")
      ->check(CLI::IsMember({"bp", "pp"}));
  cmd->add_option("--construct", o->construct, "gloria: B (product by product) or D (industry by industry)")
      ->check(CLI::IsMember({"B", "D"}));
  cmd->add_option("--money-unit", o->money_unit, "eora26: k.USD (as published) or M.USD (divided by 1000)")
      ->check(CLI::IsMember({"k.USD", "M.USD"}));
  cmd->add_option("--threads", o->threads, "Threads (0 = OMP_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--output", o->output, "Output HDF5 file (.h5)")->required();
  return ImportDbCommand{[cmd, o] {
    if (!cmd->parsed()) return;
    if (o->database == "gloria") {
      std::vector<std::string> args{"gloria", o->path, "-o", o->output, "--price", o->price, "--construct",
                                    o->construct, "--threads", std::to_string(o->threads)};
      if (!o->year.empty()) args.insert(args.end(), {"--year", o->year});
      if (!o->release.empty()) args.insert(args.end(), {"--release", o->release});
      exec_python("mriotrace.global_readers", "import_db_main", "import-db gloria", args);
    }
    if (o->database == "eora26") {
      const io::Eora26Table table =
          io::read_eora26(o->path, io::Eora26Options{o->year, o->price, o->money_unit, true, true, o->threads});
      io::save(o->output, *table.system);
      report("Eora26 " + table.year + " " + table.price, *table.system, o->output);
      return;
    }
    if (o->database == "figaro") {
      const io::FigaroTable table = io::read_figaro(o->path, io::FigaroOptions{o->year, o->kind, o->threads});
      io::save(o->output, *table.system);
      report("FIGARO " + table.year + (table.kind.empty() ? "" : " " + table.kind), *table.system, o->output);
      return;
    }
    if (o->database == "oecd-icio") {
      const io::OecdIcioTable table = io::read_oecd_icio(o->path, io::OecdIcioOptions{o->year, o->threads});
      io::save(o->output, *table.system);
      report("OECD ICIO" + (table.year.empty() ? "" : " " + table.year), *table.system, o->output);
      return;
    }
    io::ExiobaseOptions options;
    options.satellite = !o->no_satellite;
    options.impacts = !o->no_impacts;
    options.threads = o->threads;
    const io::ExiobaseTable table = io::read_exiobase3(o->path, options);
    io::save(o->output, *table.system);
    report("EXIOBASE 3" + (table.kind.empty() ? "" : " " + table.kind) + (table.year.empty() ? "" : " " + table.year),
           *table.system, o->output);
  }};
}

}  // namespace mriotrace::cli
