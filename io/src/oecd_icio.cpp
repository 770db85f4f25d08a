// OECD ICIO 2023 reader (layout in oecd_icio.hpp and docs/global-databases.md).
//
// The csv is streamed through libcsv (table_stream.hpp) into the wide-table
// reader shared with FIGARO (wide_table.hpp): one record at a time, the
// intermediate block row by row into compressed sparse rows.
#include "mriotrace/io/oecd_icio.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "table_stream.hpp"
#include "wide_table.hpp"

namespace mriotrace::io {

using ::mriotrace::detail::concat;
using namespace ::mriotrace::io::detail;
namespace fs = std::filesystem;

namespace {

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

std::string base_name(const std::string& member) {
  const size_t slash = member.rfind('/');
  return slash == std::string::npos ? member : member.substr(slash + 1);
}

/// The member of `archive` ending in `suffix` (".csv", ".zip") for `year`
/// (or the only one); "" when there is none. InputError when several fit.
std::string pick_member(const Archive& archive, const std::string& suffix, const std::string& year) {
  std::vector<std::string> found;
  for (const auto& f : archive.files())
    if (ends_with_ci(f, suffix) && base_name(f).rfind("__MACOSX", 0) != 0 &&
        (year.empty() || year_in_name(base_name(f)) == year))
      found.push_back(f);
  if (found.size() > 1 && year.empty()) {
    std::string list;
    for (size_t i = 0; i < found.size() && i < 6; ++i) list += (i ? ", " : "") + found[i];
    throw InputError(concat("OECD ICIO \"", archive.path(), "\" holds ", found.size(), " tables (", list,
                            found.size() > 6 ? ", ..." : "", "); choose one with year= (--year)"));
  }
  if (found.size() > 1)
    throw InputError(concat("OECD ICIO \"", archive.path(), "\" holds ", found.size(), " tables for ", year,
                            " (", found[0], ", ", found[1], "); pass the csv itself"));
  return found.empty() ? "" : found[0];
}

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
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && ends_with_ci(path, ".csv")) {
    CsvReader csv(open_disk(path, path), path);
    return read_csv(csv, fs::path(path).filename().string(), options);
  }
  const Archive archive(path, "OECD ICIO");
  if (!archive.is_zip()) {
    // A folder of csv files (the zip unpacked).
    const std::string member = pick_member(archive, ".csv", options.year);
    if (member.empty())
      throw FileError(concat("OECD ICIO folder \"", path, "\" holds no ", options.year.empty() ? "" : options.year + " ",
                             "csv table; expected ICIO2023_<year>.csv or <year>.csv"));
    CsvReader csv(archive.open(member), archive.name(member));
    return read_csv(csv, base_name(member), options);
  }
  std::string member = pick_member(archive, ".csv", options.year);
  if (!member.empty()) {
    CsvReader csv(archive.open(member), archive.name(member));
    return read_csv(csv, base_name(member), options);
  }
  // A zip of zips (<year>.zip inside ICIO-<from>-<to>-extended.zip).
  const std::string inner_zip = pick_member(archive, ".zip", options.year);
  if (inner_zip.empty())
    throw FileError(concat("OECD ICIO zip \"", path, "\" holds no ", options.year.empty() ? "" : options.year + " ",
                           "csv table (nor a zip of one); expected the published ICIO-<years>-extended.zip"));
  const Archive inner(archive, inner_zip);
  member = pick_member(inner, ".csv", options.year.empty() ? "" : options.year);
  if (member.empty()) member = pick_member(inner, ".csv", "");
  if (member.empty())
    throw FileError(concat("OECD ICIO zip \"", inner.path(), "\" holds no csv table"));
  CsvReader csv(inner.open(member), inner.name(member));
  return read_csv(csv, base_name(member), options);
}

}  // namespace mriotrace::io
