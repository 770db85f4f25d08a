// FIGARO reader (layout in figaro.hpp and docs/global-databases.md): the csv
// is streamed through libcsv into the wide-table reader shared with OECD ICIO.
#include "mriotrace/io/figaro.hpp"

#include "table_stream.hpp"
#include "wide_table.hpp"

namespace mriotrace::io {

using ::mriotrace::detail::concat;
using namespace ::mriotrace::io::detail;

namespace {

std::string kind_of(const std::string& name) {
  if (name.find("ind-by-ind") != std::string::npos) return "ixi";
  if (name.find("prod-by-prod") != std::string::npos) return "pxp";
  return "";
}

}  // namespace

FigaroTable read_figaro(const std::string& path, const FigaroOptions& options) {
  MRIOTRACE_CHECK(options.kind.empty() || options.kind == "ixi" || options.kind == "pxp",
                  "FIGARO kind must be \"ixi\" (industry by industry) or \"pxp\" (product by product), not \"",
                  options.kind, "\"");
  const std::string kind = options.kind;
  WideSource src = open_wide_csv(path, "FIGARO", options.year, [&kind](const std::string& name) {
    return name.rfind("matrix_eu-ic-io_", 0) == 0 && (kind.empty() || kind_of(name) == kind);
  });
  WideLayout layout;
  layout.what = concat("FIGARO \"", src.csv->name(), "\"");
  layout.fd_codes = {"P3_S13", "P3_S14", "P3_S15", "P51G", "P5M"};
  layout.empty_is_zero = true;
  layout.extension = "factor_inputs";
  layout.extension_index_name = "inputtype";
  layout.monetary_unit = "M.EUR";
  WideTable t = read_wide_table(*src.csv, layout, options.threads);
  return FigaroTable{std::move(t.system), src.csv->name(), year_in_name(src.file_name), kind_of(src.file_name)};
}

}  // namespace mriotrace::io
