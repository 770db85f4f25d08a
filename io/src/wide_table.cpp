// Wide region-by-sector CSV tables (OECD ICIO, FIGARO): see wide_table.hpp.
#include "wide_table.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <unordered_map>

namespace mriotrace::io::detail {

using ::mriotrace::detail::concat;

namespace {

enum class Kind { Z, FD, Drop };

struct Column {
  Kind kind = Kind::Drop;
  Index out = -1;  // Z: output (region, sector) index; FD: output (region, category) index
};

/// (region, code) of "REG_CODE", split at the first "_".
bool split_label(const std::string& label, std::string& region, std::string& code) {
  const size_t at = label.find('_');
  if (at == std::string::npos || at == 0 || at + 1 == label.size()) return false;
  region = label.substr(0, at);
  code = label.substr(at + 1);
  return true;
}

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
std::string pick_member(const Archive& archive, const std::string& suffix, const std::string& year,
                        const std::function<bool(const std::string&)>& filter) {
  std::vector<std::string> found;
  for (const auto& f : archive.files())
    if (ends_with_ci(f, suffix) && f.rfind("__MACOSX", 0) != 0 && (year.empty() || year_in_name(base_name(f)) == year) &&
        (!filter || suffix != ".csv" || filter(base_name(f))))
      found.push_back(f);
  if (found.size() > 1 && year.empty()) {
    std::string list;
    for (size_t i = 0; i < found.size() && i < 6; ++i) list += (i ? ", " : "") + found[i];
    throw InputError(concat(archive.what(), " \"", archive.path(), "\" holds ", found.size(), " tables (", list,
                            found.size() > 6 ? ", ..." : "", "); choose one with year= (--year)"));
  }
  if (found.size() > 1)
    throw InputError(concat(archive.what(), " \"", archive.path(), "\" holds ", found.size(), " tables for ", year,
                            " (", found[0], ", ", found[1], "); pass the csv itself"));
  return found.empty() ? "" : found[0];
}

/// Region-major blocks of (region, code) columns (file columns `at`): the
/// block length is the most common run of one region, the region of a block
/// and the code at a position are the majority's, so that one wrong label is
/// reported as that label (not as a wrong count). InputError naming the first
/// column that differs.
void region_blocks(const std::vector<std::pair<std::string, std::string>>& cols, const std::vector<Index>& at,
                   const std::vector<std::string>& header, const std::string& file, const char* codes_name,
                   std::vector<std::string>& regions, std::vector<std::string>& codes) {
  std::vector<size_t> runs;
  for (size_t j = 0; j < cols.size(); ++j)
    if (j == 0 || cols[j].first != cols[j - 1].first) runs.push_back(1);
    else ++runs.back();
  size_t N = runs[0], best = 0;
  for (size_t len : runs) {
    const auto count = static_cast<size_t>(std::count(runs.begin(), runs.end(), len));
    if (count > best) best = count, N = len;
  }
  auto majority = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    std::string top;
    size_t top_n = 0;
    for (size_t i = 0; i < v.size();) {
      size_t e = i;
      while (e < v.size() && v[e] == v[i]) ++e;
      if (e - i > top_n) top_n = e - i, top = v[i];
      i = e;
    }
    return top;
  };
  if (cols.size() % N != 0)
    throw InputError(concat("\"", file, "\" has ", cols.size(), " columns of ", codes_name, ", not a multiple of the ",
                            N, " of most regions; expected every region with the same ", codes_name,
                            ", region by region"));
  regions.clear();
  codes.clear();
  for (size_t b = 0; b < cols.size() / N; ++b) {
    std::vector<std::string> names;
    for (size_t p = 0; p < N; ++p) names.push_back(cols[b * N + p].first);
    regions.push_back(majority(names));
  }
  for (size_t p = 0; p < N; ++p) {
    std::vector<std::string> v;
    for (size_t b = 0; b < regions.size(); ++b) v.push_back(cols[b * N + p].second);
    codes.push_back(majority(v));
  }
  for (size_t j = 0; j < cols.size(); ++j)
    if (cols[j].first != regions[j / N] || cols[j].second != codes[j % N])
      throw InputError(concat("\"", file, "\" row 1, column ", at[j] + 1, " is ", header[static_cast<size_t>(at[j])],
                              "; expected ", regions[j / N], "_", codes[j % N], " (every region with the same ", N, " ",
                              codes_name, ", in the same order)"));
}

}  // namespace

WideSource open_wide_csv(const std::string& path, const std::string& what, const std::string& year,
                         const std::function<bool(const std::string&)>& filter) {
  WideSource src;
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && ends_with_ci(path, ".csv")) {
    src.csv = std::make_unique<CsvReader>(open_disk(path, path), path);
    src.file_name = std::filesystem::path(path).filename().string();
    return src;
  }
  src.outer = std::make_unique<Archive>(path, what);
  const Archive* in = src.outer.get();
  std::string member = pick_member(*in, ".csv", year, filter);
  if (member.empty() && src.outer->is_zip()) {
    // A zip of zips (<year>.zip inside ICIO-<from>-<to>-extended.zip).
    const std::string inner_zip = pick_member(*in, ".zip", year, filter);
    if (!inner_zip.empty()) {
      src.inner = std::make_unique<Archive>(*src.outer, inner_zip);
      in = src.inner.get();
      member = pick_member(*in, ".csv", "", filter);
    }
  }
  if (member.empty())
    throw FileError(concat(what, " ", src.outer->is_zip() ? "zip" : "folder", " \"", path, "\" holds no ",
                           year.empty() ? "" : year + " ", "csv table", src.outer->is_zip() ? " (nor a zip of one)" : "",
                           "; expected the published layout (see docs/global-databases.md)"));
  src.csv = std::make_unique<CsvReader>(in->open(member), in->name(member));
  src.file_name = base_name(member);
  return src;
}

std::string year_in_name(const std::string& name) {
  static const std::regex four(R"((^|[^0-9])((19|20)\d\d)(?![0-9]))");
  std::string year;
  for (auto it = std::sregex_iterator(name.begin(), name.end(), four); it != std::sregex_iterator(); ++it)
    year = (*it)[2];
  return year;
}

WideTable read_wide_table(CsvReader& csv, const WideLayout& layout, int threads) {
  const std::string& file = csv.name();
  std::vector<std::string_view> cells;
  if (!csv.next(cells))
    throw FileError(concat(layout.what, ": \"", file, "\" is empty; expected a header row of column labels"));
  const Index width = static_cast<Index>(cells.size());
  if (width < 3)
    throw InputError(concat("\"", file, "\" row 1 has ", width, " cells; expected the corner cell and the column ",
                            "labels (REGION_SECTOR, ..., REGION_<final demand>)"));
  std::vector<std::string> header(cells.begin(), cells.end());

  // ---- columns: classify, then the regions and sectors of the intermediate block
  std::vector<Column> columns(static_cast<size_t>(width));
  std::vector<std::pair<std::string, std::string>> z_cols, fd_cols;  // (region, code) in file order
  std::vector<Index> z_at, fd_at;                                    // their column numbers
  WideTable out;
  for (Index j = 1; j < width; ++j) {
    const std::string& label = header[static_cast<size_t>(j)];
    std::string reg, code;
    if (layout.drop_columns.count(label)) {
      out.dropped.push_back("column " + label);
      continue;
    }
    if (!split_label(label, reg, code))
      throw InputError(concat("\"", file, "\" row 1, column ", j + 1, ": label \"", label,
                              "\" is not REGION_SECTOR or REGION_<final-demand code>; expected the published header"));
    if (layout.fd_codes.count(code)) {
      columns[static_cast<size_t>(j)].kind = Kind::FD;
      fd_cols.emplace_back(reg, code);
      fd_at.push_back(j);
    } else {
      columns[static_cast<size_t>(j)].kind = Kind::Z;
      z_cols.emplace_back(reg, code);
      z_at.push_back(j);
    }
  }
  if (z_cols.empty())
    throw InputError(concat("\"", file, "\" has no REGION_SECTOR columns; expected the published header"));
  std::vector<std::string> in_regions, sectors;
  region_blocks(z_cols, z_at, header, file, "sectors", in_regions, sectors);
  const size_t N = sectors.size();
  // Output regions: the input regions less those merged into another present one.
  std::vector<std::string> regions;
  std::unordered_map<std::string, Index> region_index;
  std::vector<std::string> target(in_regions.size());
  for (size_t r = 0; r < in_regions.size(); ++r) {
    std::string t = layout.merge_region ? layout.merge_region(in_regions[r]) : "";
    if (!t.empty() && std::find(in_regions.begin(), in_regions.end(), t) == in_regions.end()) t.clear();
    target[r] = t;
    if (t.empty()) {
      if (region_index.count(in_regions[r]))
        throw InputError(concat("\"", file, "\": region ", in_regions[r], " appears in two blocks of columns"));
      region_index[in_regions[r]] = static_cast<Index>(regions.size());
      regions.push_back(in_regions[r]);
    } else {
      out.merged.push_back(in_regions[r] + " -> " + t);
    }
  }
  const Index R = static_cast<Index>(regions.size());
  const Index n = R * static_cast<Index>(N);
  std::unordered_map<std::string, Index> z_label_out;  // row label -> output row
  for (size_t j = 0; j < z_cols.size(); ++j) {
    const size_t r = j / N;
    const std::string& reg = target[r].empty() ? in_regions[r] : target[r];
    const Index o = region_index.at(reg) * static_cast<Index>(N) + static_cast<Index>(j % N);
    columns[static_cast<size_t>(z_at[j])].out = o;
    z_label_out[header[static_cast<size_t>(z_at[j])]] = o;
  }
  // Final-demand categories: the same in every region with final demand.
  if (fd_cols.empty())
    throw InputError(concat("\"", file, "\" has no final-demand columns (REGION_", *layout.fd_codes.begin(),
                            ", ...); expected the published header"));
  std::vector<std::string> fd_regions, categories;
  region_blocks(fd_cols, fd_at, header, file, "final-demand categories", fd_regions, categories);
  const Index c = static_cast<Index>(categories.size());
  for (size_t b = 0; b < fd_regions.size(); ++b) {
    const auto ri = region_index.find(fd_regions[b]);
    if (ri == region_index.end())
      throw InputError(concat("\"", file, "\" row 1, column ", fd_at[b * static_cast<size_t>(c)] + 1, " is ",
                              header[static_cast<size_t>(fd_at[b * static_cast<size_t>(c)])],
                              "; its region is not a region of the REGION_SECTOR columns"));
    for (Index f = 0; f < c; ++f) columns[static_cast<size_t>(fd_at[b * static_cast<size_t>(c) + static_cast<size_t>(f)])].out = ri->second * c + f;
  }
  if (std::set<std::string>(fd_regions.begin(), fd_regions.end()).size() != fd_regions.size())
    throw InputError(concat("\"", file, "\": a region has two blocks of final-demand columns"));

  // ---- rows
  SparseRowBuilder Z(n, n, static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n));
  Matrix Y = Matrix::Zero(n, R * c);
  std::vector<std::string> ext_labels;
  std::vector<std::vector<double>> F_rows, FY_rows;
  std::vector<char> z_seen(static_cast<size_t>(z_cols.size()), 0);
  std::unordered_map<std::string, size_t> z_label_in;
  for (size_t j = 0; j < z_cols.size(); ++j) z_label_in[header[static_cast<size_t>(z_at[j])]] = j;
  std::vector<double> acc(static_cast<size_t>(n), 0.0), fd(static_cast<size_t>(R * c), 0.0);
  Index z_rows = 0;
  while (csv.next(cells)) {
    const Index row = csv.row_number();
    if (static_cast<Index>(cells.size()) != width)
      throw InputError(concat("\"", file, "\" row ", row, " has ", cells.size(), " cells; expected ", width,
                              " (the label and a value for each of the ", width - 1, " columns of the header)",
                              static_cast<Index>(cells.size()) < width ? " (truncated?)" : ""));
    const std::string label(cells[0]);
    if (layout.drop_rows.count(label)) {
      out.dropped.push_back("row " + label);
      continue;
    }
    std::fill(acc.begin(), acc.end(), 0.0);
    std::fill(fd.begin(), fd.end(), 0.0);
    for (Index j = 1; j < width; ++j) {
      const Column& col = columns[static_cast<size_t>(j)];
      if (col.kind == Kind::Drop) continue;
      double v;
      if (!parse_number(cells[static_cast<size_t>(j)], v, layout.empty_is_zero))
        throw not_a_number(file, row, j + 1, concat(label, " x ", header[static_cast<size_t>(j)]),
                           cells[static_cast<size_t>(j)]);
      (col.kind == Kind::Z ? acc[static_cast<size_t>(col.out)] : fd[static_cast<size_t>(col.out)]) += v;
    }
    const auto zi = z_label_in.find(label);
    if (zi != z_label_in.end()) {
      if (z_seen[zi->second]++)
        throw InputError(concat("\"", file, "\" row ", row, ": row ", label, " appears twice"));
      const Index o = z_label_out.at(label);
      Z.add_row(o, acc.data());
      for (Index k = 0; k < R * c; ++k) Y(o, k) += fd[static_cast<size_t>(k)];
      ++z_rows;
    } else {
      if (std::find(ext_labels.begin(), ext_labels.end(), label) != ext_labels.end())
        throw InputError(concat("\"", file, "\" row ", row, ": row ", label, " appears twice"));
      ext_labels.push_back(label);
      F_rows.push_back(acc);
      FY_rows.push_back(fd);
    }
  }
  if (z_rows != static_cast<Index>(z_cols.size())) {
    size_t first = 0;
    while (first < z_seen.size() && z_seen[first]) ++first;
    throw FileError(concat("\"", file, "\" ends after ", csv.row_number(), " rows with ", z_rows, " of the ",
                           z_cols.size(), " REGION_SECTOR rows; row ", header[static_cast<size_t>(z_at[first])],
                           " is missing (truncated?)"));
  }

  SystemInput in;
  in.labels.regions = regions;
  in.labels.sectors = sectors;
  in.labels.fd_categories = categories;
  in.labels.monetary_unit = layout.monetary_unit;
  in.Z = Z.finish();
  in.Y = std::move(Y);
  flows_to_coefficients(in);
  const Index k = static_cast<Index>(ext_labels.size());
  if (k > 0) {
    in.F = stack_rows(F_rows, n);
    in.F_Y = stack_rows(FY_rows, R * c);
    for (Index i = 0; i < k; ++i) {
      in.labels.stressors.push_back(flat_name(layout.extension, {layout.extension_index_name}, {ext_labels[static_cast<size_t>(i)]}));
      in.labels.stressor_units.push_back(layout.monetary_unit);
    }
  }
  out.system = build_shared(in, threads, layout.what);
  return out;
}

}  // namespace mriotrace::io::detail
