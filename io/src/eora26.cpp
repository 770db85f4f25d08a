// Eora26 reader (layout in eora26.hpp and docs/global-databases.md).
//
// Every table is streamed line by line (table_stream.hpp's LineReader: Eora's
// text never quotes), the rows of T go into compressed sparse rows, and the
// rest of the world (ROW, one aggregate row and column) is skipped as read.
#include "mriotrace/io/eora26.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <regex>

#include "table_stream.hpp"

namespace mriotrace::io {

using ::mriotrace::detail::concat;
using namespace ::mriotrace::io::detail;
namespace fs = std::filesystem;

namespace {

/// Tab-separated rows of a label file: at least `min_cells` cells each.
std::vector<std::vector<std::string>> read_labels(const Archive& a, const std::string& member, size_t min_cells) {
  LineReader lines(a.open(member));
  std::vector<std::vector<std::string>> out;
  std::string line;
  std::vector<std::string_view> cells;
  while (lines.next(line)) {
    if (line.empty()) continue;
    split_tabs(line, cells);
    if (cells.size() < min_cells)
      throw InputError(concat("\"", a.name(member), "\" line ", lines.line_number(), " has ", cells.size(),
                              " cells; expected at least ", min_cells, " (tab-separated labels)"));
    out.emplace_back(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(min_cells));
  }
  if (out.empty()) throw FileError(concat("\"", a.name(member), "\" is empty; expected one label per line"));
  return out;
}

/// A headerless tab-separated table of numbers with `rows` rows of `width` cells.
class NumberRows {
 public:
  NumberRows(const Archive& a, const std::string& member, Index rows, Index width, std::string shape)
      : name_(a.name(member)), lines_(a.open(member)), rows_(rows), width_(width), shape_(std::move(shape)),
        values_(static_cast<size_t>(width)) {}
  bool next(const double*& values) {
    if (row_ == rows_) {
      while (lines_.next(line_))
        if (!line_.empty())
          throw InputError(concat("\"", name_, "\" has more than ", rows_, " rows; expected ", shape_,
                                  " (labels of another table?)"));
      return false;
    }
    do {
      if (!lines_.next(line_))
        throw FileError(concat("\"", name_, "\" ends after ", row_, " rows; expected ", rows_, " (", shape_,
                               ") (truncated?)"));
    } while (line_.empty());
    split_tabs(line_, cells_);
    // MATLAB's writer ends every line with a tab: an empty last cell is not a column.
    if (cells_.size() == static_cast<size_t>(width_) + 1 && cells_.back().empty()) cells_.pop_back();
    const Index row = lines_.line_number();
    if (static_cast<Index>(cells_.size()) != width_)
      throw InputError(concat("\"", name_, "\" line ", row, " has ", cells_.size(), " cells; expected ", width_, " (",
                              shape_, ")", static_cast<Index>(cells_.size()) < width_ ? " (truncated?)" : ""));
    for (Index j = 0; j < width_; ++j)
      if (!parse_number(cells_[static_cast<size_t>(j)], values_[static_cast<size_t>(j)]))
        throw not_a_number(name_, row, j + 1, "", cells_[static_cast<size_t>(j)]);
    ++row_;
    values = values_.data();
    return true;
  }
  Index row() const { return row_; }

 private:
  std::string name_;
  LineReader lines_;
  Index rows_, width_, row_ = 0;
  std::string shape_, line_;
  std::vector<std::string_view> cells_;
  std::vector<double> values_;
};

/// "Energy Usage (TJ)" -> ("Energy Usage", "TJ"), as pymrio splits them.
std::pair<std::string, std::string> name_and_unit(const std::string& s) {
  static const std::regex unit(R"(^(.*?)\s\((.*)\)(.*)$)");
  std::smatch m;
  if (std::regex_match(s, m, unit)) return {std::string(m[1]) + std::string(m[3]), m[2]};
  return {s, ""};
}

}  // namespace

Eora26Table read_eora26(const std::string& path, const Eora26Options& options) {
  MRIOTRACE_CHECK(options.price == "bp" || options.price == "pp", "Eora26 price must be \"bp\" or \"pp\", not \"",
                  options.price, "\"");
  MRIOTRACE_CHECK(options.money_unit == "k.USD" || options.money_unit == "M.USD",
                  "Eora26 money_unit must be \"k.USD\" (as published) or \"M.USD\", not \"", options.money_unit, "\"");
  const Archive data(path, "Eora26", options.threads != 1);
  // The data files: Eora26_<year>_<price>_T.txt (at the top or in one folder).
  const std::regex pattern(R"((^|/)Eora26_(\d{4})_(bp|pp)_T\.txt$)");
  std::string root;
  Eora26Table out;
  for (const auto& f : data.files()) {
    std::smatch m;
    if (!std::regex_search(f, m, pattern) || m[3] != options.price || (!options.year.empty() && m[2] != options.year))
      continue;
    if (!out.year.empty() && out.year != std::string(m[2]))
      throw InputError(concat("Eora26 \"", path, "\" holds the tables of ", out.year, " and ", std::string(m[2]),
                              "; choose one with year= (--year)"));
    out.year = m[2];
    root = f.substr(0, f.size() - (std::string(m[0]).size() - std::string(m[1]).size()));
  }
  if (out.year.empty())
    throw FileError(concat("Eora26 \"", path, "\" has no Eora26_", options.year.empty() ? "<year>" : options.year, "_",
                           options.price, "_T.txt", data.is_zip() ? " in the zip" : "",
                           "; expected the published Eora26_<year>_<bp|pp>.zip or its folder"));
  out.price = options.price;
  const std::string stem = concat(root, "Eora26_", out.year, "_", options.price, "_");

  // The labels: beside the data, else in indices.zip next to the zip (or in the folder).
  std::optional<Archive> indices;
  const Archive* lab = &data;
  std::string lab_root = root;
  if (!data.has(root + "labels_T.txt")) {
    const fs::path beside = (data.is_zip() ? fs::path(path).parent_path() : fs::path(path)) / "indices.zip";
    std::error_code ec;
    if (!fs::is_regular_file(beside, ec))
      throw FileError(concat("Eora26 \"", path, "\" has no labels_T.txt", data.is_zip() ? " in the zip" : "",
                             " and there is no indices.zip beside it (", beside.string(), "); expected the labels ",
                             "labels_T.txt, labels_FD.txt, labels_Q.txt, labels_VA.txt in one of them"));
    indices.emplace(beside.string(), "Eora26 labels");
    lab = &*indices;
    lab_root.clear();
    for (const auto& f : indices->files())
      if (f == "labels_T.txt" || (f.size() > 13 && f.compare(f.size() - 13, 13, "/labels_T.txt") == 0))
        lab_root = f.substr(0, f.size() - 12);
  }
  const auto lab_T = read_labels(*lab, lab_root + "labels_T.txt", 4);
  const auto lab_FD = read_labels(*lab, lab_root + "labels_FD.txt", 4);

  // Regions and sectors from labels_T (code, sector); ROW (and any region
  // with other sectors than the first) is left out.
  const std::string dropped_region = "ROW";
  std::vector<std::string> regions, sectors;
  std::vector<Index> row_map;  // labels_T row -> output (region, sector) index, -1 = left out
  for (const auto& l : lab_T) {
    const std::string& reg = l[1];
    if (reg == dropped_region) {
      row_map.push_back(-1);
      if (std::find(out.dropped.begin(), out.dropped.end(), reg) == out.dropped.end()) out.dropped.push_back(reg);
      continue;
    }
    if (regions.empty() || regions.back() != reg) {
      if (std::find(regions.begin(), regions.end(), reg) != regions.end())
        throw InputError(concat("\"", lab->name(lab_root + "labels_T.txt"), "\": region ", reg,
                                " appears in two blocks; expected the rows region by region"));
      regions.push_back(reg);
    }
    if (regions.size() == 1) sectors.push_back(l[3]);
    const Index r = static_cast<Index>(regions.size()) - 1;
    const Index s = static_cast<Index>(row_map.size()) - r * static_cast<Index>(sectors.size()) -
                    static_cast<Index>(std::count(row_map.begin(), row_map.end(), -1));
    // s < 0: the region before this one ended early (had fewer sectors).
    if (s < 0)
      throw InputError(concat("\"", lab->name(lab_root + "labels_T.txt"), "\" line ", row_map.size() + 1, ": ", reg,
                              " starts after only ", static_cast<Index>(sectors.size()) + s, " sectors of ",
                              regions[regions.size() - 2], "; expected the ", sectors.size(), " sectors of ", regions[0],
                              " in every region"));
    if (s >= static_cast<Index>(sectors.size()) || sectors[static_cast<size_t>(s)] != l[3])
      throw InputError(concat("\"", lab->name(lab_root + "labels_T.txt"), "\" line ", row_map.size() + 1, ": ", reg, " ",
                              l[3], "; expected the sectors of ", regions[0], " in the same order in every region"));
    row_map.push_back(r * static_cast<Index>(sectors.size()) + s);
  }
  // Empty tables would make every later matrix k x 0 (and Eigen's row
  // access on one undefined): refuse them here, naming the label file.
  if (regions.empty())
    throw InputError(concat("\"", lab->name(lab_root + "labels_T.txt"), "\" has no region besides ", dropped_region,
                            "; expected countries x sectors, then ROW"));
  const Index R = static_cast<Index>(regions.size()), N = static_cast<Index>(sectors.size()), n = R * N;
  const Index nT = static_cast<Index>(lab_T.size());
  if (nT - static_cast<Index>(std::count(row_map.begin(), row_map.end(), -1)) != n)
    throw InputError(concat("\"", lab->name(lab_root + "labels_T.txt"), "\": the last region, ", regions.back(),
                            ", has fewer than the ", N, " sectors of ", regions[0]));
  // Final-demand columns (code, category).
  std::vector<std::string> categories;
  std::vector<Index> fd_map;
  for (const auto& l : lab_FD) {
    const auto ri = std::find(regions.begin(), regions.end(), l[1]);
    if (ri == regions.end()) {
      fd_map.push_back(-1);
      continue;
    }
    const Index r = ri - regions.begin();
    if (r == 0) categories.push_back(l[3]);
    const auto ci = std::find(categories.begin(), categories.end(), l[3]);
    if (ci == categories.end())
      throw InputError(concat("\"", lab->name(lab_root + "labels_FD.txt"), "\" line ", fd_map.size() + 1, ": category ",
                              l[3], " of ", l[1], " is not one of ", regions[0], "'s"));
    fd_map.push_back(ci - categories.begin());  // the category; its region's offset is added below
  }
  if (categories.empty())
    throw InputError(concat("\"", lab->name(lab_root + "labels_FD.txt"), "\" has no final-demand category of ",
                            regions[0], " (the first region of labels_T.txt); expected its categories, region by region"));
  const Index c = static_cast<Index>(categories.size()), nFD = static_cast<Index>(lab_FD.size());
  // A (region, category) listed twice would be two columns written into one
  // column of Y: the first one's numbers silently lost.
  std::vector<char> fd_seen(static_cast<size_t>(R * c), 0);
  for (Index j = 0; j < nFD; ++j)
    if (fd_map[static_cast<size_t>(j)] >= 0) {
      const Index r = std::find(regions.begin(), regions.end(), lab_FD[static_cast<size_t>(j)][1]) - regions.begin();
      fd_map[static_cast<size_t>(j)] += r * c;
      if (fd_seen[static_cast<size_t>(fd_map[static_cast<size_t>(j)])]++)
        throw InputError(concat("\"", lab->name(lab_root + "labels_FD.txt"), "\" line ", j + 1, ": category ",
                                lab_FD[static_cast<size_t>(j)][3], " of ", lab_FD[static_cast<size_t>(j)][1],
                                " is listed twice; expected each category once per region"));
    }
  const double money = options.money_unit == "M.USD" ? 1e-3 : 1.0;

  // ---- T
  SystemInput in;
  std::vector<double> part(static_cast<size_t>(n));
  auto gather = [&](const double* row, double scale) {
    for (Index j = 0; j < nT; ++j)
      if (row_map[static_cast<size_t>(j)] >= 0) part[static_cast<size_t>(row_map[static_cast<size_t>(j)])] = row[j] * scale;
  };
  {
    const std::string file = stem + "T.txt";
    SparseRowBuilder Z(n, n, data.size(file) / 2 + 1);
    NumberRows t(data, file, nT, nT, concat(nT, " x ", nT, ", the rows of labels_T.txt"));
    const double* row;
    while (t.next(row)) {
      const Index i = t.row() - 1;
      if (row_map[static_cast<size_t>(i)] < 0) {
        for (Index j = 0; j < nT; ++j) out.dropped_flows += row[j];
        continue;
      }
      for (Index j = 0; j < nT; ++j)
        if (row_map[static_cast<size_t>(j)] < 0) out.dropped_flows += row[j];
      gather(row, money);
      Z.add_row(row_map[static_cast<size_t>(i)], part.data());
    }
    in.Z = Z.finish();
  }
  // ---- FD
  in.Y = Matrix::Zero(n, R * c);
  {
    NumberRows t(data, stem + "FD.txt", nT, nFD, concat(nT, " x ", nFD, ", labels_T.txt x labels_FD.txt"));
    const double* row;
    while (t.next(row)) {
      const Index i = row_map[static_cast<size_t>(t.row() - 1)];
      if (i < 0) continue;
      for (Index j = 0; j < nFD; ++j)
        if (fd_map[static_cast<size_t>(j)] >= 0) in.Y(i, fd_map[static_cast<size_t>(j)]) = row[j] * money;
    }
  }
  // ---- extensions
  std::vector<std::vector<double>> F_rows, FY_rows;
  Labels& l = in.labels;
  if (options.satellites) {
    const auto lab_Q = read_labels(*lab, lab_root + "labels_Q.txt", 2);
    const Index k = static_cast<Index>(lab_Q.size());
    NumberRows t(data, stem + "Q.txt", k, nT, concat(k, " x ", nT, ", labels_Q.txt x labels_T.txt"));
    const double* row;
    while (t.next(row)) {
      gather(row, 1.0);
      F_rows.push_back(part);
      const auto& lq = lab_Q[static_cast<size_t>(t.row() - 1)];
      const auto [name, unit] = name_and_unit(lq[0]);
      l.stressors.push_back(flat_name("Q", {"stressor", "source"}, {name, lq[1]}));
      l.stressor_units.push_back(unit);
    }
    NumberRows ty(data, stem + "QY.txt", k, nFD, concat(k, " x ", nFD, ", labels_Q.txt x labels_FD.txt"));
    while (ty.next(row)) {
      std::vector<double> fy(static_cast<size_t>(R * c), 0.0);
      for (Index j = 0; j < nFD; ++j)
        if (fd_map[static_cast<size_t>(j)] >= 0) fy[static_cast<size_t>(fd_map[static_cast<size_t>(j)])] = row[j];
      FY_rows.push_back(std::move(fy));
    }
  }
  if (options.value_added) {
    const auto lab_VA = read_labels(*lab, lab_root + "labels_VA.txt", 2);
    const Index v = static_cast<Index>(lab_VA.size());
    NumberRows t(data, stem + "VA.txt", v, nT, concat(v, " x ", nT, ", labels_VA.txt x labels_T.txt"));
    const double* row;
    while (t.next(row)) {
      gather(row, money);
      F_rows.push_back(part);
      FY_rows.emplace_back(static_cast<size_t>(R * c), 0.0);
      const auto& lv = lab_VA[static_cast<size_t>(t.row() - 1)];
      l.stressors.push_back(flat_name("VA", {"inputtype", "category"}, {lv[0], lv[1]}));
      l.stressor_units.push_back(options.money_unit);
    }
  }
  const Index k = static_cast<Index>(F_rows.size());
  if (k > 0) {
    in.F = stack_rows(F_rows, n);
    in.F_Y = stack_rows(FY_rows, R * c);
  }
  l.regions = regions;
  l.sectors = sectors;
  l.fd_categories = categories;
  l.monetary_unit = options.money_unit;
  flows_to_coefficients(in);
  out.system = build_shared(in, options.threads, concat("Eora26 \"", path, "\""));
  return out;
}

}  // namespace mriotrace::io
