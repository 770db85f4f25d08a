// OECD ICIO 2023 reader (layout in oecd_icio.hpp and docs/global-databases.md).
//
// The csv is streamed through libcsv (table_stream.hpp) into the wide-table
// reader shared with FIGARO (wide_table.hpp): one record at a time, the
// intermediate block row by row into compressed sparse rows.
#include "mriotrace/io/oecd_icio.hpp"

#include <regex>

#include "table_stream.hpp"
#include "wide_table.hpp"

namespace mriotrace::io {

using ::mriotrace::detail::concat;
using namespace ::mriotrace::io::detail;

namespace {

OecdIcioTable read_csv(CsvReader& csv, const std::string& file_name, const OecdIcioOptions& options) {
  WideLayout layout;
  layout.what = concat("OECD ICIO \"", csv.name(), "\"");
  // The 2023 release's final-demand codes; DIRPA / NPS / INV / GGCF are those
  // of the 2016-2021 releases, accepted so that an older table reads too.
  layout.fd_codes = {"HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR", "DIRPA", "NPS", "INV", "GGCF"};
  layout.drop_columns = {"OUT", "TOTAL"};
  layout.drop_rows = {"OUT", "OUTPUT"};
  // China and Mexico split into CN1, CN2 (processing trade, the rest) and
  // MX1, MX2 (global manufacturing, the rest) in the extended tables: added
  // into CHN and MEX, which carry the final demand.
  layout.merge_region = [](const std::string& r) -> std::string {
    static const std::regex cn("CN\\d+"), mx("MX\\d+");
    if (std::regex_match(r, cn)) return "CHN";
    if (std::regex_match(r, mx)) return "MEX";
    return "";
  };
  layout.empty_is_zero = true;
  layout.extension = "factor_inputs";
  layout.extension_index_name = "inputtype";
  layout.monetary_unit = "M.USD";
  WideTable t = read_wide_table(csv, layout, options.threads);
  return OecdIcioTable{std::move(t.system), csv.name(), year_in_name(file_name), std::move(t.merged)};
}

}  // namespace

OecdIcioTable read_oecd_icio(const std::string& path, const OecdIcioOptions& options) {
  WideSource src = open_wide_csv(path, "OECD ICIO", options.year);
  return read_csv(*src.csv, src.file_name, options);
}

}  // namespace mriotrace::io
