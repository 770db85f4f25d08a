// `mriotrace import-db exiobase3|wiod2016 PATH -o out.h5`: a published database
// (EXIOBASE zip or folder, WIOD workbook) read natively and written as an mriotrace HDF5 system, ready for
// `mriotrace footprint`. Named import-db, not import, while `import` (Chinese
// national tables) lives on another branch; the two are to be merged.
#include "import_db.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/io/wiod2016.hpp"
#include "util.hpp"

namespace mriotrace::cli {

ImportDbCommand add_import_db_command(CLI::App& app) {
  struct Options {
    std::string database, path, output, sheet;
    std::vector<std::string> env;
    bool no_impacts = false, no_satellite = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("import-db", "Import a published global MRIO database (zip or folder) into HDF5");
  cmd->add_option("DATABASE", o->database, "Database format")->required()->check(CLI::IsMember({"exiobase3", "wiod2016"}));
  cmd->add_option("PATH", o->path,
                  "exiobase3: the published zip (e.g. IOT_2011_ixi.zip) or its unpacked folder; "
                  "wiod2016: the WIOT workbook (e.g. WIOT2014_Nov16_ROW.xlsx)")
      ->required();
  cmd->add_option("--env", o->env,
                  "wiod2016: an environmental account workbook as NAME[:UNIT]=PATH, e.g. "
                  "\"CO2:kt=CO2 emissions.xlsx\" (repeatable)");
  cmd->add_option("--sheet", o->sheet, "wiod2016: the sheet (default: the one named by the year, else the first)");
  cmd->add_flag("--no-satellite", o->no_satellite, "Leave out the satellite/ extension");
  cmd->add_flag("--no-impacts", o->no_impacts, "Leave out the impacts/ extension");
  cmd->add_option("--threads", o->threads, "Threads (0 = OMP_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--output", o->output, "Output HDF5 file (.h5)")->required();
  return ImportDbCommand{[cmd, o] {
    if (!cmd->parsed()) return;
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
      const MrioSystem& s = *table.system;
      io::save(o->output, s);
      std::cout << "imported WIOD 2016" << (table.year.empty() ? "" : " " + table.year) << ": " << s.R()
                << " regions x " << s.N() << " sectors, " << s.c() << " final-demand categories, " << s.k()
                << " stressors (" << s.labels().monetary_unit << ") -> " << o->output << "\n";
      if (table.max_imbalance > 1e-6)
        std::cerr << "mriotrace: warning: the table's identities are off by up to " << table.max_imbalance
                  << " (relative), at " << table.imbalance << "\n";
      return;
    }
    if (!o->env.empty() || !o->sheet.empty()) throw UsageError("--env and --sheet are options of wiod2016");
    io::ExiobaseOptions options;
    options.satellite = !o->no_satellite;
    options.impacts = !o->no_impacts;
    options.threads = o->threads;
    const io::ExiobaseTable table = io::read_exiobase3(o->path, options);
    const MrioSystem& s = *table.system;
    io::save(o->output, s);
    std::cout << "imported EXIOBASE 3" << (table.kind.empty() ? "" : " " + table.kind)
              << (table.year.empty() ? "" : " " + table.year) << ": " << s.R() << " regions x " << s.N()
              << " sectors, " << s.c() << " final-demand categories, " << s.k() << " stressors ("
              << s.labels().monetary_unit << ") -> " << o->output << "\n";
  }};
}

}  // namespace mriotrace::cli
