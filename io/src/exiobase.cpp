// EXIOBASE 3 reader (layout in exiobase.hpp and docs/global-databases.md).
//
// Every table is streamed: the file (or zip member, decompressed by libzip)
// is read in 1 MiB chunks and split into lines, one line is held at a time,
// and each cell goes through std::from_chars into the matrix being built.
// Z and A go row by row into compressed sparse rows (exact zeros dropped),
// then once into the engine's column-major sparse matrix, so a dense n x n
// copy never exists (EXIOBASE's 9,800 x 9,800 Z would be 770 MB).
#include "mriotrace/io/exiobase.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string_view>
#include <unordered_map>

#include "mriotrace/error.hpp"
#include "table_stream.hpp"

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;
using namespace ::mriotrace::io::detail;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- the release

/// The EXIOBASE release: a folder or a zip (table_stream.hpp's Archive), with
/// root() the folder holding Y.txt.
class Release : public Archive {
 public:
  /// prefetch: zip members are decompressed ahead on a second thread.
  explicit Release(const std::string& path, bool prefetch = false) : Archive(path, "EXIOBASE", prefetch) {
    set_root(find_root());
  }

 private:
  /// "" when Y.txt is at the top, else "<dir>/" of the single shallowest Y.txt.
  std::string find_root() const {
    std::vector<std::string> found;
    if (is_zip()) {
      size_t best = std::string::npos;
      for (const auto& name : files()) {
        if (name != "Y.txt" && !(name.size() > 6 && name.compare(name.size() - 6, 6, "/Y.txt") == 0)) continue;
        const size_t depth = static_cast<size_t>(std::count(name.begin(), name.end(), '/'));
        if (depth < best) found.clear(), best = depth;
        if (depth == best) found.push_back(name.substr(0, name.size() - 5));
      }
    } else {
      std::error_code ec;
      if (fs::is_regular_file(fs::path(path()) / "Y.txt", ec)) return "";
      for (const auto& entry : fs::directory_iterator(path(), ec))
        if (entry.is_directory() && fs::is_regular_file(entry.path() / "Y.txt", ec))
          found.push_back(entry.path().filename().string() + "/");
    }
    if (found.size() == 1) return found[0];
    if (found.empty())
      throw FileError(concat("EXIOBASE \"", path(), "\" holds no Y.txt (at the top or in one folder); expected ",
                             "the published layout IOT_<year>_<ixi|pxp>/{Z or A,Y,x}.txt"));
    throw InputError(concat("EXIOBASE \"", path(), "\" holds ", found.size(), " tables (", found[0], ", ", found[1],
                            ", ...); expected one: pass the folder of one of them"));
  }
};

// ---------------------------------------------------------------- tables

/// Layout of one file: index columns and header rows.
struct Shape {
  int index_cols;
  int header_rows;
};

/// One tab-separated table: its header rows and then its data rows.
class TsvTable {
 public:
  TsvTable(const Release& release, const std::string& rel, Shape shape)
      : name_(release.name(rel)), shape_(shape), lines_(release.open(rel)) {
    for (int h = 0; h < shape.header_rows; ++h) {
      if (!lines_.next(line_))
        throw FileError(concat("\"", name_, "\" ends after ", h, " lines; expected ", shape.header_rows,
                               " header rows (truncated?)"));
      split_tabs(line_, cells_);
      if (static_cast<int>(cells_.size()) <= shape.index_cols)
        throw InputError(concat("\"", name_, "\" line ", h + 1, ": header row has ", cells_.size(),
                                " cells; expected ", shape.index_cols, " index columns and the column labels"));
      level_names.emplace_back(cells_[0]);
      header.emplace_back(cells_.begin() + shape.index_cols, cells_.end());
      if (h > 0 && header[h].size() != header[0].size())
        throw InputError(concat("\"", name_, "\" line ", h + 1, ": header row has ", header[h].size(),
                                " column labels; line 1 has ", header[0].size()));
    }
    columns_ = static_cast<Index>(header.empty() ? 0 : header[0].size());
    // pandas writes an "index names" row after a multi-row header: the index
    // names, every data cell empty. Keep the names, skip the row.
    have_line_ = lines_.next(line_);
    if (have_line_ && shape.header_rows > 1) {
      split_tabs(line_, cells_);
      const bool names_row = std::all_of(cells_.begin() + std::min<size_t>(cells_.size(), shape.index_cols),
                                         cells_.end(), [](std::string_view c) { return c.empty(); });
      if (names_row) {
        for (int i = 0; i < shape.index_cols && i < static_cast<int>(cells_.size()); ++i)
          index_names.emplace_back(cells_[static_cast<size_t>(i)]);
        have_line_ = lines_.next(line_);
      }
    }
  }

  const std::string& name() const { return name_; }
  Index columns() const { return columns_; }

  /// The next data row: its index cells and (parsed) values; false at the end.
  /// One pass over the line: the cells are not split into a list first, and
  /// "0.0" / "0" (most cells of Z) skip the number parser.
  bool next(std::vector<std::string_view>& index, std::vector<double>& values) {
    if (!have_line_) return false;
    // The index cells returned are views into current_; the read-ahead goes into line_.
    std::swap(current_, line_);
    const Index line_no = lines_.line_number();
    const char* p = current_.data();
    const char* const end = p + current_.size();
    auto cell_end = [end](const char* from) {
      const void* tab = std::memchr(from, '\t', static_cast<size_t>(end - from));
      return tab == nullptr ? end : static_cast<const char*>(tab);
    };
    auto wrong_count = [&](Index got) {
      return InputError(concat("\"", name_, "\" line ", line_no, " has ", got, " cells; expected ",
                               shape_.index_cols + columns_, " (", shape_.index_cols, " index columns and ", columns_,
                               " values, as the header)", got < shape_.index_cols + columns_ ? " (truncated?)" : ""));
    };
    index.clear();
    for (int i = 0; i < shape_.index_cols; ++i) {
      const char* e = cell_end(p);
      index.emplace_back(p, static_cast<size_t>(e - p));
      if (e == end) throw wrong_count(i + 1);
      p = e + 1;
    }
    values.resize(static_cast<size_t>(columns_));
    double* out = values.data();
    for (Index j = 0; j < columns_; ++j) {
      if (end - p >= 4 && std::memcmp(p, "0.0\t", 4) == 0) {  // most cells of Z: no search, no parse
        out[j] = 0.0;
        p += 4;
        continue;
      }
      const char* e = cell_end(p);
      const size_t len = static_cast<size_t>(e - p);
      if ((len == 3 && p[0] == '0' && p[1] == '.' && p[2] == '0') || (len == 1 && p[0] == '0')) {
        out[j] = 0.0;
      } else {
        const auto [ptr, ec] = std::from_chars(p, e, out[j]);
        if (ec != std::errc() || ptr != e || len == 0)
          throw InputError(concat("\"", name_, "\" line ", line_no, ", column ", shape_.index_cols + j + 1, " (",
                                  column_label(j), "): \"", std::string_view(p, len), "\" is not a number"));
      }
      if (e == end) {
        if (j + 1 != columns_) throw wrong_count(shape_.index_cols + j + 1);
        p = nullptr;  // the line is used up
      } else {
        p = e + 1;
      }
    }
    if (p != nullptr) {  // cells left over
      Index extra = 1;
      for (const char* q = p; q < end; ++q) extra += *q == '\t';
      throw wrong_count(shape_.index_cols + columns_ + extra);
    }
    have_line_ = lines_.next(line_);
    return true;
  }

  /// The next row as text cells (unit files); false at the end.
  bool next_text(std::vector<std::string>& cells) {
    if (!have_line_) return false;
    split_tabs(line_, cells_);
    cells.assign(cells_.begin(), cells_.end());
    have_line_ = lines_.next(line_);
    return true;
  }
  Index line_number() const { return lines_.line_number() - (have_line_ ? 1 : 0); }

  std::string column_label(Index j) const {
    std::string s;
    for (const auto& level : header) s += (s.empty() ? "" : ", ") + level[static_cast<size_t>(j)];
    return s;
  }

  std::vector<std::string> level_names;           ///< first cell of each header row
  std::vector<std::vector<std::string>> header;   ///< header rows, data columns only
  std::vector<std::string> index_names;           ///< from the index-names row, if any

 private:
  std::string name_;
  Shape shape_;
  LineReader lines_;
  std::string line_, current_;
  std::vector<std::string_view> cells_;
  bool have_line_ = false;
  Index columns_ = 0;
};

// ---------------------------------------------------------------- file parameters

/// nr_index_col / nr_header per file name, from file_parameters.json when present.
std::unordered_map<std::string, Shape> file_shapes(const Release& release, const std::string& folder) {
  std::unordered_map<std::string, Shape> out;
  const std::string rel = folder + "file_parameters.json";
  if (!release.has(rel)) return out;
  std::string text, line;
  LineReader lines(release.open(rel));  // a few hundred bytes
  while (lines.next(line)) text += line + "\n";
  try {
    const auto j = nlohmann::json::parse(text);
    // A count of index columns or header rows: a whole number (or a string
    // of one, as the releases write them) in [1, 16]. A float is refused, not
    // converted (1e300 to int is undefined), and so are counts no table has:
    // the table reader indexes its cells with them.
    auto as_count = [&](const nlohmann::json& f, const char* key) {
      const nlohmann::json& v = f.at(key);
      long long n = -1;
      if (v.is_number_integer()) {
        n = v.get<long long>();
      } else if (v.is_string()) {
        const std::string s = v.get<std::string>();
        size_t used = 0;
        n = std::stoll(s, &used);
        if (used != s.size()) n = -1;
      }
      if (n < 1 || n > 16)
        throw std::invalid_argument(concat("\"", key, "\" of \"", f.value("name", std::string("?")), "\" is ",
                                           v.is_structured() ? std::string("not a number") : v.dump(),
                                           "; expected a whole number from 1 to 16"));
      return static_cast<int>(n);
    };
    for (const auto& [key, f] : j.at("files").items())
      out[f.at("name").get<std::string>()] = Shape{as_count(f, "nr_index_col"), as_count(f, "nr_header")};
  } catch (const std::exception& e) {
    throw InputError(concat("\"", release.name(rel), "\" is not a valid file-parameters file: ", e.what()));
  }
  return out;
}

Shape shape_of(const std::unordered_map<std::string, Shape>& shapes, const std::string& file, Shape fallback) {
  const auto it = shapes.find(file);
  return it == shapes.end() ? fallback : it->second;
}

// ---------------------------------------------------------------- axes

/// Regions and sectors of the n x n tables, from a (region, sector) header.
struct Axes {
  std::vector<std::string> regions, sectors;
  Index n() const { return static_cast<Index>(regions.size() * sectors.size()); }
};

/// Region-major labels from two header levels: first-appearance order, and
/// every (region, second) pair in exactly region-major order.
void region_major(const TsvTable& t, std::vector<std::string>& regions, std::vector<std::string>& second,
                  const char* second_name) {
  if (t.header.size() != 2)
    throw InputError(concat("\"", t.name(), "\" has ", t.header.size(), " header rows; expected 2 (region, ",
                            second_name, ")"));
  const auto& reg = t.header[0];
  const auto& sec = t.header[1];
  regions.clear();
  second.clear();
  for (size_t j = 0; j < reg.size(); ++j) {
    if (regions.empty() || regions.back() != reg[j]) regions.push_back(reg[j]);
    if (regions.size() == 1) second.push_back(sec[j]);
  }
  const size_t N = second.size();
  if (reg.size() != regions.size() * N)
    throw InputError(concat("\"", t.name(), "\" has ", reg.size(), " columns for ", regions.size(),
                            " regions and ", N, " ", second_name, "s (those of ", regions[0],
                            "); expected every region with the same ", second_name, "s, region by region"));
  for (size_t j = 0; j < reg.size(); ++j)
    if (reg[j] != regions[j / N] || sec[j] != second[j % N])
      throw InputError(concat("\"", t.name(), "\" column ", j + 1, " is (", reg[j], ", ", sec[j], "); expected (",
                              regions[j / N], ", ", second[j % N], ") in region-major order"));
}

/// Row `row` of an n-row table must be (region, sector) of position `row`.
void check_row_label(const TsvTable& t, const std::vector<std::string_view>& index, Index row, const Axes& axes) {
  const Index N = static_cast<Index>(axes.sectors.size());
  if (row >= axes.n())
    throw InputError(concat("\"", t.name(), "\" line ", t.line_number(), ": more than n = ", axes.n(),
                            " data rows (", axes.regions.size(), " regions x ", N, " sectors)"));
  const auto& r = axes.regions[static_cast<size_t>(row / N)];
  const auto& s = axes.sectors[static_cast<size_t>(row % N)];
  if (index.size() < 2 || index[0] != r || index[1] != s)
    throw InputError(concat("\"", t.name(), "\" line ", t.line_number(), " is labelled (",
                            index.empty() ? "" : std::string(index[0]), index.size() > 1 ? ", " : "",
                            index.size() > 1 ? std::string(index[1]) : "", "); expected (", r, ", ", s,
                            "), the rows in the order of the columns"));
}

void expect_rows(const TsvTable& t, Index got, Index want) {
  if (got != want)
    throw FileError(concat("\"", t.name(), "\" ends after ", got, " data rows; expected ", want,
                           " (truncated?)"));
}

/// Z (or A) (n x n) into a sparse matrix (axes from its header). With
/// `column_scale` (1/x, 0 where x = 0) every entry is scaled as it is read, so
/// Z becomes A = Z diag(x)^-1 (the product MrioSystem::build would form from Z)
/// without Z and A ever being held together.
SparseMatrix read_square(TsvTable& t, const Axes& axes, std::uint64_t bytes, const Vector* column_scale) {
  const Index n = axes.n();
  // A nonzero takes at least 2 bytes of text ("1\t").
  SparseRowBuilder rows(n, n, bytes == 0 ? 0 : bytes / 2 + 1);
  std::vector<std::string_view> index;
  std::vector<double> row;
  Index r = 0;
  while (t.next(index, row)) {
    check_row_label(t, index, r, axes);
    rows.add_row(r, row.data(), column_scale ? column_scale->data() : nullptr);
    ++r;
  }
  expect_rows(t, r, n);
  return rows.finish();
}

/// A table whose rows are the n (region, sector) pairs and whose columns are
/// labelled by region and category (Y) or one column (x).
Matrix read_by_sector_rows(TsvTable& t, const Axes& axes) {
  const Index n = axes.n();
  Matrix m(n, t.columns());
  std::vector<std::string_view> index;
  std::vector<double> row;
  Index r = 0;
  while (t.next(index, row)) {
    check_row_label(t, index, r, axes);
    for (Index j = 0; j < t.columns(); ++j) m(r, j) = row[static_cast<size_t>(j)];
    ++r;
  }
  expect_rows(t, r, n);
  return m;
}

/// An extension table (k rows, one label each): labels and row-major values.
struct RowTable {
  std::vector<std::string> labels;
  Matrix values;  // k x columns
};

/// `rows_hint`: the number of rows when known (from unit.txt), to size the
/// buffer once. With `column_scale` each value is scaled as it is read (F -> S).
/// With `target`, the rows go into target rows [offset, offset + rows_hint)
/// instead (the stacked matrix of all extensions), and the file must have
/// exactly rows_hint rows (those its unit.txt lists).
RowTable read_labelled_rows(TsvTable& t, size_t rows_hint, const Vector* column_scale, Matrix* target = nullptr,
                            Index offset = 0) {
  RowTable out;
  const Index cols = t.columns();
  // Rows go straight into the (column-major) matrix, sized from the hint and
  // grown by half when a file has more rows than its unit.txt lists.
  if (target == nullptr) out.values.resize(static_cast<Index>(rows_hint), cols);
  Matrix& into = target ? *target : out.values;
  const Index base = target ? offset : 0;
  std::vector<std::string_view> index;
  std::vector<double> row;
  Index k = 0;
  while (t.next(index, row)) {
    out.labels.emplace_back(index[0]);
    if (target && k == static_cast<Index>(rows_hint))
      throw InputError(concat("\"", t.name(), "\" line ", t.line_number(), ": more rows than the ", rows_hint,
                              " its unit.txt lists"));
    if (!target && k == into.rows()) into.conservativeResize(std::max<Index>(8, k + k / 2), cols);
    for (Index j = 0; j < cols; ++j)
      into(base + k, j) = column_scale ? row[static_cast<size_t>(j)] * (*column_scale)[j] : row[static_cast<size_t>(j)];
    ++k;
  }
  if (target && k != static_cast<Index>(rows_hint))
    throw InputError(concat("\"", t.name(), "\" has ", k, " rows; its unit.txt lists ", rows_hint));
  if (!target && k != into.rows()) into.conservativeResize(k, cols);
  return out;
}

/// Columns of an extension table must be the n sectors (F, S) or the Y columns (F_Y).
void expect_columns(const TsvTable& t, const std::vector<std::string>& regions, const std::vector<std::string>& second,
                    const char* second_name) {
  std::vector<std::string> r, s;
  region_major(t, r, s, second_name);
  if (r != regions || s != second)
    throw InputError(concat("\"", t.name(), "\" has columns for ", r.size(), " regions x ", s.size(), " ",
                            second_name, "s (first ", t.column_label(0), "); expected those of the core tables (",
                            regions.size(), " x ", second.size(), ", first ", regions[0], ", ", second[0], ")"));
}

/// unit.txt: label(s) -> unit (last column).
std::vector<std::pair<std::string, std::string>> read_units(const Release& release, const std::string& rel,
                                                            Shape shape) {
  TsvTable t(release, rel, shape);
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> cells;
  while (t.next_text(cells)) {
    if (static_cast<int>(cells.size()) != shape.index_cols + 1)
      throw InputError(concat("\"", t.name(), "\" line ", t.line_number(), " has ", cells.size(),
                              " cells; expected ", shape.index_cols, " label columns and the unit"));
    out.emplace_back(cells[0], cells.back());
  }
  return out;
}

struct Extension {
  std::string folder, index_name;
  std::vector<std::string> labels, units;
  Matrix F, S, F_Y;  // F or S, k x n; F_Y k x R*c or empty
  bool in_target = false;  // its S rows were written into the stacked matrix instead
};

/// One extension folder. With `inverse_x` (1/x), F.txt is read straight into
/// S = F diag(x)^-1 (what MrioSystem::build would compute from F).
Extension read_extension(const Release& release, const std::string& folder, const Axes& axes,
                         const std::vector<std::string>& categories, const Vector* inverse_x,
                         Matrix* target = nullptr, Index offset = 0) {
  Extension ext;
  ext.folder = folder;
  const std::string dir = folder + "/";
  const auto shapes = file_shapes(release, dir);
  std::vector<std::pair<std::string, std::string>> units;
  if (release.has(dir + "unit.txt")) units = read_units(release, dir + "unit.txt", shape_of(shapes, "unit.txt", Shape{1, 1}));
  const Shape table_shape{1, 2};
  auto read = [&](const std::string& file, const std::vector<std::string>& second, const char* second_name,
                  const Vector* scale, Matrix& into, Matrix* stacked = nullptr) {
    TsvTable t(release, dir + file, shape_of(shapes, file, table_shape));
    expect_columns(t, axes.regions, second, second_name);
    RowTable rows = read_labelled_rows(t, units.size(), scale, stacked, offset);
    if (ext.labels.empty()) {
      ext.labels = std::move(rows.labels);
      ext.index_name = t.index_names.empty() ? "" : t.index_names[0];
    } else if (rows.labels != ext.labels) {
      throw InputError(concat("\"", t.name(), "\" lists ", rows.labels.size(), " rows; expected the ",
                              ext.labels.size(), " rows of the extension's first table, in the same order"));
    }
    into = std::move(rows.values);
  };
  // `target` (given only with x known, so every extension yields S) takes the S rows.
  if (release.has(dir + "F.txt"))
    read("F.txt", axes.sectors, "sector", inverse_x, inverse_x ? ext.S : ext.F, target);
  else
    read("S.txt", axes.sectors, "sector", nullptr, ext.S, target);  // throws FileError naming S.txt if absent too
  ext.in_target = target != nullptr;
  for (const char* file : {"F_Y.txt", "F_hh.txt"})  // F_hh: releases before 3.7
    if (release.has(dir + file)) {
      read(file, categories, "category", nullptr, ext.F_Y);
      break;
    }
  if (release.has(dir + "unit.txt")) {
    std::unordered_map<std::string, std::string> unit_of(units.begin(), units.end());
    for (const auto& label : ext.labels) {
      const auto it = unit_of.find(label);
      if (it == unit_of.end())
        throw InputError(concat("\"", release.name(dir + "unit.txt"), "\" has no unit for \"", label, "\""));
      ext.units.push_back(it->second);
    }
  } else {
    ext.units.assign(ext.labels.size(), "");
  }
  return ext;
}

}  // namespace

std::string flat_stressor_name(const std::string& ext, const std::string& index_name, const std::string& label) {
  return flat_name(ext, {index_name.empty() ? std::string("stressor") : index_name}, {label});
}

ExiobaseTable read_exiobase3(const std::string& path, const ExiobaseOptions& options) {
  const Release release(path, options.threads != 1);
  ExiobaseTable out;
  out.root = release.root();
  {
    // IOT_2011_ixi(.zip), from the root folder name or else the file name.
    static const std::regex pattern(R"(IOT_(\d{4})_(ixi|pxp))");
    std::smatch m;
    const std::string names = release.root() + " " + fs::path(path).filename().string();
    if (std::regex_search(names, m, pattern)) {
      out.year = m[1];
      out.kind = m[2];
    }
  }
  const auto shapes = file_shapes(release, "");
  const Shape square_shape{2, 2};

  SystemInput in;
  Axes axes;
  const bool from_Z = release.has("Z.txt");
  const std::string square = from_Z ? "Z.txt" : "A.txt";
  TsvTable square_table(release, square, shape_of(shapes, square, square_shape));
  region_major(square_table, axes.regions, axes.sectors, "sector");
  // x first (a small file), so that Z and F can be turned into A and S as they are read.
  Vector inverse_x;
  if (release.has("x.txt")) {
    TsvTable t(release, "x.txt", shape_of(shapes, "x.txt", Shape{2, 1}));
    if (t.columns() != 1)
      throw InputError(concat("\"", t.name(), "\" has ", t.columns(), " value columns; expected 1 (indout)"));
    in.x = read_by_sector_rows(t, axes).col(0);
    // 1/x, 0 where x = 0: MrioSystem::build's convention (pymrio's too).
    inverse_x = in.x.unaryExpr([](double v) { return v == 0.0 ? 0.0 : 1.0 / v; });
  }
  const Vector* scale = inverse_x.size() > 0 ? &inverse_x : nullptr;

  // Y and the extensions, after Z (so that Z's row buffer is gone before S fills).
  // In parallel they would overlap in memory: measured 3.8 s / 558 MB against
  // 4.9 s / 436 MB with only the decompression on a second thread (PrefetchSource).
  struct Rest {
    std::vector<std::string> categories;
    Matrix Y;
    std::vector<Extension> exts;
    Matrix stacked;  // the extensions' S rows, when read directly into one matrix
  };
  auto read_rest = [&](const Release& rel) {
    Rest rest;
    TsvTable t(rel, "Y.txt", shape_of(shapes, "Y.txt", square_shape));
    std::vector<std::string> regions;
    region_major(t, regions, rest.categories, "category");
    if (regions != axes.regions)
      throw InputError(concat("\"", t.name(), "\" has final demand of ", regions.size(), " regions (first ",
                              regions[0], "); expected the ", axes.regions.size(), " regions of the Z/A columns"));
    rest.Y = read_by_sector_rows(t, axes);
    std::vector<std::string> folders;
    for (const char* folder : {"satellite", "impacts"})
      if (!((std::string(folder) == "satellite" && !options.satellite) ||
            (std::string(folder) == "impacts" && !options.impacts) || !rel.has_folder(folder)))
        folders.emplace_back(folder);
    // With x known and every unit.txt present, the row counts are known up
    // front: the extensions' S rows go straight into one stacked matrix (no
    // second copy of ~100 MB while stacking).
    std::vector<Index> counts;
    for (const auto& f : folders)
      if (scale != nullptr && rel.has(f + "/unit.txt"))
        counts.push_back(static_cast<Index>(
            read_units(rel, f + "/unit.txt", shape_of(file_shapes(rel, f + "/"), "unit.txt", Shape{1, 1})).size()));
    const bool direct = !folders.empty() && counts.size() == folders.size();
    if (direct) {
      Index total = 0;
      for (Index c : counts) total += c;
      rest.stacked.resize(total, axes.n());
    }
    Index offset = 0;
    for (size_t i = 0; i < folders.size(); ++i) {
      rest.exts.push_back(read_extension(rel, folders[i], axes, rest.categories, scale,
                                         direct ? &rest.stacked : nullptr, offset));
      if (direct) offset += counts[i];
    }
    return rest;
  };
  {
    SparseMatrix T = read_square(square_table, axes, release.size(square), from_Z ? scale : nullptr);
    (from_Z && scale == nullptr ? in.Z : in.A) = std::move(T);
  }
  Rest rest = read_rest(release);
  std::vector<std::string>& categories = rest.categories;
  in.Y = std::move(rest.Y);

  Labels& l = in.labels;
  l.regions = axes.regions;
  l.sectors = axes.sectors;
  l.fd_categories = categories;
  l.monetary_unit = "M.EUR";  // EXIOBASE 3's monetary unit; unit.txt, when present, says so per row
  if (release.has("unit.txt")) {
    std::vector<std::string> uniq;
    for (const auto& [label, unit] : read_units(release, "unit.txt", shape_of(shapes, "unit.txt", Shape{2, 1})))
      if (std::find(uniq.begin(), uniq.end(), unit) == uniq.end()) uniq.push_back(unit);
    if (!uniq.empty()) {
      l.monetary_unit.clear();
      for (const auto& u : uniq) l.monetary_unit += (l.monetary_unit.empty() ? "" : " / ") + u;
    }
  }

  std::vector<Extension>& exts = rest.exts;

  // Stack the extensions: S if every extension has S (F read with x known is S),
  // else F if every one has F, else S with F turned into S (needs x).
  const Index n = axes.n(), cols = in.Y.cols();
  Index k = 0;
  bool all_S = true, all_F = true, any_F_Y = false;
  for (const auto& e : exts) {
    k += static_cast<Index>(e.labels.size());
    all_S = all_S && e.S.size() > 0;
    all_F = all_F && e.F.size() > 0;
    any_F_Y = any_F_Y || e.F_Y.size() > 0;
  }
  bool all_in_target = !exts.empty();
  for (const auto& e : exts) all_in_target = all_in_target && e.in_target;
  all_S = all_S || all_in_target;
  const bool use_F = all_F && !all_S;
  if (k > 0) {
    Matrix stacked;
    if (all_in_target)
      stacked = std::move(rest.stacked);
    else if (exts.size() > 1)
      stacked.resize(k, n);
    if (any_F_Y) in.F_Y = Matrix::Zero(k, cols);
    Index at = 0;
    for (auto& e : exts) {
      const Index ke = static_cast<Index>(e.labels.size());
      Matrix& rows = use_F ? e.F : e.S;
      if (!e.in_target && !use_F && e.S.size() == 0) {
        MRIOTRACE_CHECK(scale != nullptr, "EXIOBASE \"", path, "\": ", e.folder,
                        " gives F.txt and another extension only S.txt; turning F into S needs x.txt");
        e.S = e.F * scale->asDiagonal();
      }
      if (e.in_target) {
        // already in place
      } else if (exts.size() == 1) {
        stacked = std::move(rows);  // one extension: no copy
      } else {
        stacked.middleRows(at, ke) = rows;
      }
      if (e.F_Y.size() > 0) in.F_Y.middleRows(at, ke) = e.F_Y;
      for (Index i = 0; i < ke; ++i) {
        l.stressors.push_back(flat_stressor_name(e.folder, e.index_name, e.labels[static_cast<size_t>(i)]));
        l.stressor_units.push_back(e.units[static_cast<size_t>(i)]);
      }
      out.extensions.push_back(e.folder);
      out.extension_rows.push_back(ke);
      at += ke;
      e = Extension{};  // free as we go
    }
    (use_F ? in.F : in.S) = std::move(stacked);
  }
  return ExiobaseTable{build_shared(in, options.threads, concat("EXIOBASE \"", path, "\"")), out.root, out.kind,
                       out.year, std::move(out.extensions), std::move(out.extension_rows)};
}

}  // namespace mriotrace::io
