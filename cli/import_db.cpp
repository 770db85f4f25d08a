// `mriotrace import-db exiobase3 PATH -o out.h5`: a published database (zip or
// folder) read natively and written as an mriotrace HDF5 system, ready for
// `mriotrace footprint`. Named import-db, not import, while `import` (Chinese
// national tables) lives on another branch; the two are to be merged.
#include "import_db.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "mriotrace/io/exiobase.hpp"
#include "mriotrace/io/hdf5.hpp"

namespace mriotrace::cli {

ImportDbCommand add_import_db_command(CLI::App& app) {
  struct Options {
    std::string database, path, output;
    bool no_impacts = false, no_satellite = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("import-db", "Import a published global MRIO database (zip or folder) into HDF5");
  cmd->add_option("DATABASE", o->database, "Database format")->required()->check(CLI::IsMember({"exiobase3"}));
  cmd->add_option("PATH", o->path, "The published zip (e.g. IOT_2011_ixi.zip) or its unpacked folder")->required();
  cmd->add_flag("--no-satellite", o->no_satellite, "Leave out the satellite/ extension");
  cmd->add_flag("--no-impacts", o->no_impacts, "Leave out the impacts/ extension");
  cmd->add_option("--threads", o->threads, "Threads (0 = OMP_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--output", o->output, "Output HDF5 file (.h5)")->required();
  return ImportDbCommand{[cmd, o] {
    if (!cmd->parsed()) return;
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
