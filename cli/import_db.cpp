// `mriotrace import-db DATABASE PATH -o out.h5`: a published database (zip,
// folder, csv or workbook) read natively and written as an mriotrace HDF5
// system, ready for `mriotrace footprint`. DATABASE: exiobase3, wiod2016,
// oecd-icio, gloria, eora26, figaro (docs/global-databases.md). GLORIA's labels
// are in an xlsx workbook read in Python (python-calamine): `gloria` hands over
// to mriotrace.global_readers.import_db_main (cli/import.cpp's exec_python).
// Named import-db, not import, while `import` (Chinese national tables) lives
// on another branch; the two are to be merged.
#include "import_db.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "import.hpp"
#include "mriotrace/io/eora26.hpp"
#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/figaro.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/oecd_icio.hpp"
#include "mriotrace/io/wiod2016.hpp"
#include "util.hpp"

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
    std::string database, path, output, sheet, year, kind, release, price = "bp", construct = "B",
        money_unit = "k.USD";
    std::vector<std::string> env;
    bool no_impacts = false, no_satellite = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("import-db", "Import a published global MRIO database (zip or folder) into HDF5");
  cmd->add_option("DATABASE", o->database, "Database format")
      ->required()
      ->check(CLI::IsMember({"exiobase3", "wiod2016", "oecd-icio", "gloria", "eora26", "figaro"}));
  cmd->add_option("PATH", o->path,
                  "exiobase3: the published zip (e.g. IOT_2011_ixi.zip) or its unpacked folder; "
                  "wiod2016: the WIOT workbook (e.g. WIOT2014_Nov16_ROW.xlsx); oecd-icio, eora26, figaro: the "
                  "zip, folder or csv; gloria: the folder holding GLORIA_MRIOs_*, GLORIA_SatelliteAccounts_*, "
                  "GLORIA_ReadMe_*")
      ->required();
  cmd->add_option("--env", o->env,
                  "wiod2016: an environmental account workbook as NAME[:UNIT]=PATH, e.g. "
                  "\"CO2:kt=CO2 emissions.xlsx\" (repeatable)");
  cmd->add_option("--sheet", o->sheet, "wiod2016: the sheet (default: the one named by the year, else the first)");
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
    if (o->database != "wiod2016" && (!o->env.empty() || !o->sheet.empty()))
      throw UsageError("--env and --sheet are options of wiod2016");
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
    if (o->database == "wiod2016") {
      io::WiodOptions options;
      options.sheet = o->sheet;
      for (const std::string& spec : o->env) {
        const size_t eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
          throw UsageError("--env \"" + spec + "\": expected NAME[:UNIT]=PATH, e.g. \"CO2:kt=CO2 emissions.xlsx\"");
        std::string name = spec.substr(0, eq), unit;
        if (const size_t colon = name.find(':'); colon != std::string::npos) {
          unit = name.substr(colon + 1);
          name = name.substr(0, colon);
        }
        options.env.push_back({spec.substr(eq + 1), name, unit});
      }
      const io::WiodTable table = io::read_wiod2016(o->path, options);
      io::save(o->output, *table.system);
      report("WIOD 2016" + (table.year.empty() ? "" : " " + table.year), *table.system, o->output);
      if (table.max_imbalance > 1e-6)
        std::cerr << "mriotrace: warning: the table's identities are off by up to " << table.max_imbalance
                  << " (relative), at " << table.imbalance << "\n";
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
