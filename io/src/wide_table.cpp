// Wide region-by-sector CSV tables (OECD ICIO, FIGARO): see wide_table.hpp.
#include "wide_table.hpp"

#include <algorithm>
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

}  // namespace

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
  // Input regions of the intermediate block, region by region, each with the
  // same sectors. The block length N is the most common run of one region (so
  // that one wrong label is reported as that label, not as a wrong count), the
  // region of a block and the sector at a position are the majority's.
  std::vector<size_t> runs;
  for (size_t j = 0; j < z_cols.size(); ++j)
    if (j == 0 || z_cols[j].first != z_cols[j - 1].first) runs.push_back(1);
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
  if (z_cols.size() % N != 0)
    throw InputError(concat("\"", file, "\" has ", z_cols.size(), " REGION_SECTOR columns, not a multiple of the ", N,
                            " sectors of most regions; expected every region with the same sectors, region by region"));
  std::vector<std::string> in_regions, sectors;
  for (size_t b = 0; b < z_cols.size() / N; ++b) {
    std::vector<std::string> names;
    for (size_t p = 0; p < N; ++p) names.push_back(z_cols[b * N + p].first);
    in_regions.push_back(majority(names));
  }
  for (size_t p = 0; p < N; ++p) {
    std::vector<std::string> codes;
    for (size_t b = 0; b < in_regions.size(); ++b) codes.push_back(z_cols[b * N + p].second);
    sectors.push_back(majority(codes));
  }
  for (size_t j = 0; j < z_cols.size(); ++j)
    if (z_cols[j].first != in_regions[j / N] || z_cols[j].second != sectors[j % N])
      throw InputError(concat("\"", file, "\" row 1, column ", z_at[j] + 1, " is ", header[static_cast<size_t>(z_at[j])],
                              "; expected ", in_regions[j / N], "_", sectors[j % N],
                              " (every region with the same ", N, " sectors, in the same order)"));
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
  // Final-demand categories: those of the first region with final demand, the same in every region.
  std::vector<std::string> categories;
  for (const auto& [reg, code] : fd_cols) {
    if (reg != fd_cols[0].first) break;
    categories.push_back(code);
  }
  const Index c = static_cast<Index>(categories.size());
  if (c == 0)
    throw InputError(concat("\"", file, "\" has no final-demand columns (REGION_", *layout.fd_codes.begin(),
                            ", ...); expected the published header"));
  std::vector<char> fd_seen(static_cast<size_t>(R * c), 0);
  for (size_t j = 0; j < fd_cols.size(); ++j) {
    const auto& [reg, code] = fd_cols[j];
    const auto ri = region_index.find(reg);
    const auto ci = std::find(categories.begin(), categories.end(), code);
    if (ri == region_index.end() || ci == categories.end())
      throw InputError(concat("\"", file, "\" row 1, column ", fd_at[j] + 1, " is ", header[static_cast<size_t>(fd_at[j])],
                              ri == region_index.end() ? "; its region is not a region of the REGION_SECTOR columns"
                                                       : concat("; expected the final-demand categories of ",
                                                                fd_cols[0].first, " in every region")));
    const Index o = ri->second * c + (ci - categories.begin());
    if (fd_seen[static_cast<size_t>(o)]++)
      throw InputError(concat("\"", file, "\" row 1, column ", fd_at[j] + 1, ": ", header[static_cast<size_t>(fd_at[j])],
                              " appears twice"));
    columns[static_cast<size_t>(fd_at[j])].out = o;
  }

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
  const Index k = static_cast<Index>(ext_labels.size());
  if (k > 0) {
    in.F.resize(k, n);
    in.F_Y.resize(k, R * c);
    for (Index i = 0; i < k; ++i) {
      in.F.row(i) = Eigen::Map<const Eigen::RowVectorXd>(F_rows[static_cast<size_t>(i)].data(), n);
      in.F_Y.row(i) = Eigen::Map<const Eigen::RowVectorXd>(FY_rows[static_cast<size_t>(i)].data(), R * c);
      in.labels.stressors.push_back(flat_name(layout.extension, {layout.extension_index_name}, {ext_labels[static_cast<size_t>(i)]}));
      in.labels.stressor_units.push_back(layout.monetary_unit);
    }
  }
  out.system = build_shared(in, threads, layout.what);
  return out;
}

}  // namespace mriotrace::io::detail
