// Tidy CSV export of accounts (csv.hpp): one labelled row per value group,
// numbers at full precision (%.17g round-trips every double), written to a
// temporary file and renamed over the target like the HDF5 writer.
#include "mriotrace/io/csv.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "atomic_file.hpp"
#include "mriotrace/error.hpp"

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;

/// RFC 4180 quoting: fields holding a comma, quote or line break are quoted,
/// with embedded quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + '"';
}

/// Name and unit of each account row: the system's stressors by index, or,
/// for value-added accounts (one row, no stressor index), "value added" in
/// the monetary unit.
std::vector<std::pair<std::string, std::string>> row_names(const Labels& labels, const Accounts& acc, Index k,
                                                           const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (acc.stressors.empty() && k == 1) {
    out.emplace_back("value added", labels.monetary_unit);
    return out;
  }
  MRIOTRACE_CHECK(static_cast<Index>(acc.stressors.size()) == k, "writing \"", path, "\": the accounts have ", k,
                  " rows but ", acc.stressors.size(), " stressor indices");
  for (Index s : acc.stressors) {
    MRIOTRACE_CHECK(s >= 0 && s < labels.k(), "writing \"", path, "\": stressor index ", s, " is outside the ",
                    labels.k(), " stressors of the labels");
    const auto i = static_cast<size_t>(s);
    out.emplace_back(labels.stressors[i], i < labels.stressor_units.size() ? labels.stressor_units[i] : "");
  }
  return out;
}

void check_columns(const Matrix& m, Index rows, Index cols, const char* name, const std::string& path) {
  MRIOTRACE_CHECK(m.rows() == rows && m.cols() == cols, "writing \"", path, "\": ", name, " is ", m.rows(), " x ",
                  m.cols(), "; expected ", rows, " x ", cols);
}

/// Writes one table: `header`, then for each account row s and each column j
/// of the members, the label fields of (s, j) followed by members[*](s, j).
void write_table(const std::string& path, const char* header, const Labels& labels, const Accounts& acc,
                 const std::vector<std::pair<const char*, const Matrix*>>& members,
                 std::string (*column_labels)(const Labels&, Index)) {
  const Index k = members.front().second->rows(), cols = members.front().second->cols();
  for (const auto& [name, m] : members) check_columns(*m, k, cols, name, path);
  const auto rows = row_names(labels, acc, k, path);

  detail::AtomicFile out(path);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(out.temp_path().c_str(), "w"), &std::fclose);
  if (!f)
    throw FileError(concat("cannot write \"", path, "\": creating \"", out.temp_path(), "\" failed: ",
                           std::strerror(errno)));
  std::fputs(header, f.get());
  std::fputc('\n', f.get());
  for (Index s = 0; s < k; ++s) {
    const std::string prefix = csv_field(rows[static_cast<size_t>(s)].first) + "," +
                               csv_field(rows[static_cast<size_t>(s)].second) + ",";
    for (Index j = 0; j < cols; ++j) {
      std::fputs(prefix.c_str(), f.get());
      std::fputs(column_labels(labels, j).c_str(), f.get());
      for (const auto& member : members) std::fprintf(f.get(), ",%.17g", (*member.second)(s, j));
      std::fputc('\n', f.get());
    }
  }
  const bool write_failed = std::ferror(f.get()) != 0;
  if (std::fclose(f.release()) != 0 || write_failed)
    throw FileError(concat("cannot write \"", path, "\": writing \"", out.temp_path(), "\" failed (disk full?)"));
  out.commit();
}

std::string region_label(const Labels& l, Index r) { return csv_field(l.regions[static_cast<size_t>(r)]); }

std::string region_sector_label(const Labels& l, Index j) {
  const Index N = l.N();
  return csv_field(l.regions[static_cast<size_t>(j / N)]) + "," + csv_field(l.sectors[static_cast<size_t>(j % N)]);
}

std::string region_category_label(const Labels& l, Index j) {
  const Index c = l.c();
  return csv_field(l.regions[static_cast<size_t>(j / c)]) + "," +
         csv_field(l.fd_categories[static_cast<size_t>(j % c)]);
}

}  // namespace

void write_split_csv(const std::string& path, const Labels& labels, const std::vector<Index>& stressors,
                     const Matrix& D, bool by_category) {
  const Index cols = by_category ? labels.R() * labels.c() : labels.n();
  check_columns(D, static_cast<Index>(stressors.size()), cols, "D_cba", path);
  Accounts rows;
  rows.stressors = stressors;
  write_table(path, by_category ? "stressor,unit,region,category,D_cba" : "stressor,unit,region,sector,D_cba", labels,
              rows, {{"D_cba", &D}}, by_category ? &region_category_label : &region_sector_label);
}

void write_regional_csv(const std::string& path, const Labels& labels, const Accounts& accounts) {
  MRIOTRACE_CHECK(accounts.regional, "writing \"", path, "\": the accounts have no regional results; compute them "
                  "with AccountsOptions::regional = true");
  MRIOTRACE_CHECK(accounts.D_cba_reg.cols() == labels.R(), "writing \"", path, "\": the accounts have ",
                  accounts.D_cba_reg.cols(), " regions but the labels ", labels.R());
  write_table(path, "stressor,unit,region,D_cba_reg,D_pba_reg,D_imp_reg,D_exp_reg", labels, accounts,
              {{"D_cba_reg", &accounts.D_cba_reg},
               {"D_pba_reg", &accounts.D_pba_reg},
               {"D_imp_reg", &accounts.D_imp_reg},
               {"D_exp_reg", &accounts.D_exp_reg}},
              &region_label);
}

void write_sector_csv(const std::string& path, const Labels& labels, const Accounts& accounts) {
  MRIOTRACE_CHECK(accounts.sector_level, "writing \"", path, "\": the accounts have no sector-level results; "
                  "compute them with AccountsOptions::sector_level = true");
  MRIOTRACE_CHECK(accounts.M.cols() == labels.n(), "writing \"", path, "\": the accounts have ", accounts.M.cols(),
                  " columns but the labels n = ", labels.n());
  write_table(path, "stressor,unit,region,sector,M,D_cba,D_pba,D_imp,D_exp", labels, accounts,
              {{"M", &accounts.M},
               {"D_cba", &accounts.D_cba},
               {"D_pba", &accounts.D_pba},
               {"D_imp", &accounts.D_imp},
               {"D_exp", &accounts.D_exp}},
              &region_sector_label);
}

}  // namespace mriotrace::io
