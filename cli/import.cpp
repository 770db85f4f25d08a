// `mriotrace import china-national|ceads-mrio ...` and `mriotrace datasets
// fetch|list ...`: run the Python module (mriotrace.importers,
// mriotrace.downloads) with every argument passed through. The interpreter is
// $MRIOTRACE_PYTHON, else python3 / python beside this executable (pip puts
// both into the environment's bin/). The process is replaced (execv), so the
// importer's output and exit code are the command's own.
#include "import.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace mriotrace::cli {
namespace {

// Checks that the package is there before handing over, so a missing package
// is one clear line, not a Python traceback.
std::string bootstrap(const std::string& command, const std::string& module, const std::string& function) {
  return "import importlib.util, sys\n"
         "if importlib.util.find_spec('mriotrace') is None:\n"
         "    sys.stderr.write('mriotrace: error: the mriotrace Python package is not installed for ' + sys.executable +"
         " '; mriotrace " + command + " needs it (pip install mriotrace, or set MRIOTRACE_PYTHON)\\n'); sys.exit(1)\n"
         "from " + module + " import " + function + "\n"
         "sys.exit(" + function + "(sys.argv[1:]))\n";
}

std::string find_python(const std::string& command) {
  if (const char* env = std::getenv("MRIOTRACE_PYTHON"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const char* name : {"python3", "python"}) {
    const auto candidate = dir / name;
    if (!ec && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error("no Python interpreter beside " + (ec ? std::string("this program") : dir.string()) +
                           " (python3 or python): mriotrace " + command + " runs the mriotrace Python package; install it "
                           "with pip into the same environment, or set MRIOTRACE_PYTHON");
}

}  // namespace

void exec_python(const std::string& module, const std::string& function, const std::string& command,
                 const std::vector<std::string>& arguments) {
  const std::string python = find_python(command);
  std::vector<std::string> args{python, "-c", bootstrap(command, module, function)};
  args.insert(args.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(python.c_str(), argv.data());
  throw std::runtime_error("cannot run " + python + " for mriotrace " + command);
}

std::function<void()> add_python_command(CLI::App& app, const std::string& name, const std::string& description,
                                         const std::string& module) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->set_help_flag();  // --help goes to the Python module, which knows the options
  cmd->prefix_command();
  cmd->allow_extras();
  return [cmd, name, module] {
    if (!cmd->parsed()) return;
    std::vector<std::string> args = cmd->remaining();
    if (args.empty()) args.emplace_back("--help");
    exec_python(module, "main", name, args);
  };
}

std::function<void()> add_import_command(CLI::App& app) {
  return add_python_command(app, "import", "Read published data into an HDF5 file: china-national, ceads-mrio",
                            "mriotrace.importers");
}

std::function<void()> add_datasets_command(CLI::App& app) {
  return add_python_command(app, "datasets",
                            "The published global databases: list, fetch NAME [--year Y] (download into the cache)",
                            "mriotrace.downloads");
}

}  // namespace mriotrace::cli
