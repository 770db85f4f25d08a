// WIOD 2016 reader (layout in wiod2016.hpp and docs/global-databases.md).
//
// An .xlsx workbook is a zip of XML parts. libzip inflates the sheet part in
// 1 MiB chunks, expat parses each chunk as it comes, and every completed
// spreadsheet row is handed to the table assembler, which turns its cells
// into numbers (std::from_chars) and into Z's triplets / Y / the factor rows.
// Neither the XML text nor a dense copy of Z is ever held: the largest
// buffers are one row of cells and Z's nonzeros.
#include "mriotrace/io/wiod2016.hpp"

#include <expat.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <string_view>
#include <unordered_map>

#include "mriotrace/error.hpp"
#include "mriotrace/io/exiobase.hpp"  // flat_stressor_name: one encoding of "<ext>::<label>"

namespace mriotrace::io {
namespace {

using ::mriotrace::detail::concat;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- cells

/// "E" for column 4 (0-based), "AA" for 26.
std::string column_name(int col) {
  std::string s;
  for (int c = col + 1; c > 0; c = (c - 1) / 26) s.insert(s.begin(), static_cast<char>('A' + (c - 1) % 26));
  return s;
}

std::string cell_name(int row, int col) { return column_name(col) + std::to_string(row); }

// An .xlsx sheet's size (Excel's limits, ECMA-376): references beyond it are
// damage, and bounding them keeps the row and column arithmetic in int.
constexpr int kMaxRows = 1 << 20, kMaxCols = 1 << 14;  // 1048576 rows, columns A..XFD

/// "E7" -> (7, 4); false if it is not a cell reference inside a sheet.
bool parse_ref(std::string_view ref, int& row, int& col) {
  size_t i = 0;
  int c = 0;
  while (i < ref.size() && i < 4 && ref[i] >= 'A' && ref[i] <= 'Z') c = c * 26 + (ref[i++] - 'A' + 1);
  if (i == 0 || i == ref.size() || c > kMaxCols) return false;
  int r = 0;
  const auto res = std::from_chars(ref.data() + i, ref.data() + ref.size(), r);
  if (res.ec != std::errc() || res.ptr != ref.data() + ref.size() || r < 1 || r > kMaxRows) return false;
  row = r;
  col = c - 1;
  return true;
}

struct Cell {
  int col = 0;
  char type = 'n';  // 'n' number, 's' text (shared, inline or formula string), 'b' boolean, 'e' error
  std::string text;
};

struct Row {
  int number = 0;  // 1-based, as Excel shows it
  std::vector<Cell> cells;
  size_t size = 0;  // cells[0, size) are this row's (the rest are reused buffers)

  const Cell* find(int col) const {
    for (size_t i = 0; i < size; ++i)
      if (cells[i].col == col) return &cells[i];
    return nullptr;
  }
  /// The text of column `col` ("" when empty; numbers as written).
  std::string text(int col) const {
    const Cell* c = find(col);
    return c ? c->text : std::string();
  }
};

// ---------------------------------------------------------------- workbook

/// An open .xlsx: its sheets, shared strings and streamed sheet rows.
class Workbook {
 public:
  explicit Workbook(const std::string& path) : path_(path), file_(fs::path(path).filename().string()) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw FileError(concat("cannot read \"", path, "\": no such file"));
    int err = 0;
    zip_ = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (zip_ == nullptr) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      const std::string why = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      throw FileError(concat("cannot read \"", path, "\" as an .xlsx workbook (a zip): ", why,
                             " (truncated download, or an .xls/.xlsb file? expected an Excel .xlsx)"));
    }
    // The destructor does not run for a constructor that throws: a damaged
    // workbook.xml or sharedStrings.xml must not leak the open archive.
    try {
      read_sheets();
      read_shared_strings();
    } catch (...) {
      zip_discard(zip_);
      throw;
    }
  }
  ~Workbook() {
    if (zip_ != nullptr) zip_discard(zip_);
  }
  Workbook(const Workbook&) = delete;
  Workbook& operator=(const Workbook&) = delete;

  const std::string& file() const { return file_; }
  const std::vector<std::string>& sheet_names() const { return names_; }
  bool has_sheet(const std::string& name) const { return targets_.count(name) > 0; }

  /// `file, sheet "2014", cell E7` for messages.
  std::string where(const std::string& sheet, int row, int col) const {
    return concat(file_, ", sheet \"", sheet, "\", cell ", cell_name(row, col));
  }

  /// Calls on_row for every row of `sheet` with cells, in order.
  void stream(const std::string& sheet, const std::function<void(const Row&)>& on_row) const;

 private:
  /// A whole (small) part as text: workbook.xml, the rels, sharedStrings.
  bool read_part(const std::string& name, std::string& out) const {
    const zip_int64_t index = zip_name_locate(zip_, name.c_str(), 0);
    if (index < 0) return false;
    zip_file_t* f = zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0);
    if (f == nullptr) throw FileError(concat("cannot open ", name, " in \"", path_, "\": ", zip_strerror(zip_)));
    out.clear();
    char buf[1 << 16];
    for (;;) {
      const zip_int64_t got = zip_fread(f, buf, sizeof buf);
      if (got < 0) {
        const std::string why = zip_file_strerror(f);
        zip_fclose(f);
        throw FileError(concat("cannot read ", name, " in \"", path_, "\": ", why, " (truncated or damaged file?)"));
      }
      if (got == 0) break;
      out.append(buf, static_cast<size_t>(got));
    }
    zip_fclose(f);
    return true;
  }

  void read_sheets();
  void read_shared_strings();

  std::string path_, file_;
  zip_t* zip_ = nullptr;
  std::vector<std::string> names_;
  std::map<std::string, std::string> targets_;  // sheet name -> part name (xl/worksheets/sheet1.xml)
  std::vector<std::string> shared_;
};

/// Local name of an XML element ("x:row" -> "row": some writers prefix the namespace).
std::string_view local(const XML_Char* name) {
  std::string_view s(name);
  const size_t colon = s.rfind(':');
  return colon == std::string_view::npos ? s : s.substr(colon + 1);
}

const char* attr(const XML_Char** atts, std::string_view key) {
  for (int i = 0; atts[i] != nullptr; i += 2)
    if (local(atts[i]) == key) return atts[i + 1];
  return nullptr;
}

/// expat over a callback object; errors thrown in callbacks stop the parser
/// and are rethrown after XML_Parse returns.
class XmlParser {
 public:
  using Start = std::function<void(std::string_view, const XML_Char**)>;
  using End = std::function<void(std::string_view)>;
  using Text = std::function<void(const char*, int)>;
  XmlParser(Start start, End end, Text text) : start_(std::move(start)), end_(std::move(end)), text_(std::move(text)) {
    p_ = XML_ParserCreate(nullptr);
    if (p_ == nullptr) throw std::bad_alloc();
    XML_SetUserData(p_, this);
    XML_SetElementHandler(
        p_, [](void* self, const XML_Char* name, const XML_Char** atts) { static_cast<XmlParser*>(self)->on_start(name, atts); },
        [](void* self, const XML_Char* name) { static_cast<XmlParser*>(self)->on_end(name); });
    XML_SetCharacterDataHandler(p_, [](void* self, const XML_Char* s, int len) {
      static_cast<XmlParser*>(self)->on_text(s, len);
    });
  }
  ~XmlParser() { XML_ParserFree(p_); }
  XmlParser(const XmlParser&) = delete;
  XmlParser& operator=(const XmlParser&) = delete;

  /// Parse one chunk (last = true for the end of the document).
  void feed(const char* data, size_t len, bool last, const std::string& what) {
    if (XML_Parse(p_, data, static_cast<int>(len), last ? XML_TRUE : XML_FALSE) == XML_STATUS_ERROR) {
      if (error_) std::rethrow_exception(error_);
      throw FileError(concat(what, ": not well-formed XML at line ", XML_GetCurrentLineNumber(p_), ": ",
                             XML_ErrorString(XML_GetErrorCode(p_)), " (truncated or damaged workbook?)"));
    }
  }

 private:
  template <class F>
  void guarded(F&& f) {
    if (error_) return;
    try {
      f();
    } catch (...) {
      error_ = std::current_exception();
      XML_StopParser(p_, XML_FALSE);
    }
  }
  void on_start(const XML_Char* name, const XML_Char** atts) { guarded([&] { start_(local(name), atts); }); }
  void on_end(const XML_Char* name) { guarded([&] { end_(local(name)); }); }
  void on_text(const XML_Char* s, int len) {
    if (text_) guarded([&] { text_(s, len); });
  }

  XML_Parser p_ = nullptr;
  Start start_;
  End end_;
  Text text_;
  std::exception_ptr error_;
};

void parse_whole(const std::string& text, const std::string& what, XmlParser::Start start, XmlParser::End end,
                 XmlParser::Text chars = nullptr) {
  XmlParser p(std::move(start), std::move(end), std::move(chars));
  p.feed(text.data(), text.size(), true, what);
}

void Workbook::read_sheets() {
  std::string xml;
  if (!read_part("xl/workbook.xml", xml))
    throw FileError(concat("\"", path_, "\" is a zip but not an .xlsx workbook (no xl/workbook.xml)"));
  std::vector<std::pair<std::string, std::string>> sheets;  // name, relationship id
  parse_whole(xml, file_ + ":xl/workbook.xml", [&](std::string_view el, const XML_Char** atts) {
    if (el != "sheet") return;
    const char* name = attr(atts, "name");
    const char* id = attr(atts, "id");
    if (name && id) sheets.emplace_back(name, id);
  }, [](std::string_view) {});
  std::unordered_map<std::string, std::string> rels;
  if (read_part("xl/_rels/workbook.xml.rels", xml))
    parse_whole(xml, file_ + ":xl/_rels/workbook.xml.rels", [&](std::string_view el, const XML_Char** atts) {
      if (el != "Relationship") return;
      const char* id = attr(atts, "Id");
      const char* target = attr(atts, "Target");
      if (id && target) rels[id] = target;
    }, [](std::string_view) {});
  for (const auto& [name, id] : sheets) {
    const auto it = rels.find(id);
    if (it == rels.end()) continue;
    std::string target = it->second;
    target = target.rfind('/', 0) == 0 ? target.substr(1) : "xl/" + target;  // absolute or relative to xl/
    names_.push_back(name);
    targets_[name] = target;
  }
  if (names_.empty()) throw FileError(concat("\"", path_, "\" is an .xlsx workbook without worksheets"));
}

void Workbook::read_shared_strings() {
  std::string xml;
  if (!read_part("xl/sharedStrings.xml", xml)) return;  // a workbook of numbers only
  std::string current;
  bool in_t = false;
  int phonetic = 0;  // <rPh> runs (ruby text) are not part of the string
  parse_whole(xml, file_ + ":xl/sharedStrings.xml",
      [&](std::string_view el, const XML_Char**) {
        if (el == "si") current.clear();
        else if (el == "rPh") ++phonetic;
        else if (el == "t" && phonetic == 0) in_t = true;
      },
      [&](std::string_view el) {
        if (el == "si") shared_.push_back(current);
        else if (el == "rPh") --phonetic;
        else if (el == "t") in_t = false;
      },
      [&](const char* s, int len) {
        if (in_t) current.append(s, static_cast<size_t>(len));
      });
}

void Workbook::stream(const std::string& sheet, const std::function<void(const Row&)>& on_row) const {
  const auto it = targets_.find(sheet);
  if (it == targets_.end()) {
    std::string have;
    for (const auto& n : names_) have += (have.empty() ? "\"" : ", \"") + n + "\"";
    throw FileError(concat(file_, " has no sheet \"", sheet, "\"; its sheets: ", have));
  }
  const std::string& part = it->second;
  const std::string what = concat(file_, ", sheet \"", sheet, "\" (", part, ")");
  const zip_int64_t index = zip_name_locate(zip_, part.c_str(), 0);
  if (index < 0) throw FileError(concat(what, ": the part is missing from the workbook (damaged file?)"));

  Row row;
  Cell* cell = nullptr;
  bool in_value = false;  // inside <v> or an inline string's <t>
  int last_col = -1;
  auto start = [&](std::string_view el, const XML_Char** atts) {
    if (el == "row") {
      const char* r = attr(atts, "r");
      int n = row.number + 1;
      if (r != nullptr) std::from_chars(r, r + std::strlen(r), n);
      if (n < 1 || n > kMaxRows)
        throw InputError(concat(what, ": row number ", n, " (after row ", row.number, ") is outside a sheet's rows 1 to ",
                                kMaxRows, " (damaged workbook?)"));
      row.number = n;
      row.size = 0;
      last_col = -1;
    } else if (el == "c") {
      if (row.size == row.cells.size()) row.cells.emplace_back();
      cell = &row.cells[row.size++];
      cell->text.clear();
      int r = 0, c = last_col + 1;
      if (const char* ref = attr(atts, "r"); ref != nullptr && !parse_ref(ref, r, c))
        throw InputError(concat(what, ": cell reference \"", ref, "\" in row ", row.number, " is not valid"));
      cell->col = last_col = c;
      const char* t = attr(atts, "t");
      const std::string_view type = t ? t : "n";
      cell->type = type == "s" ? 'S' : type == "inlineStr" || type == "str" ? 's' : type == "b" ? 'b'
                 : type == "e" ? 'e' : 'n';
    } else if (cell != nullptr && (el == "v" || el == "t")) {
      in_value = true;
    }
  };
  auto end = [&](std::string_view el) {
    if (el == "v" || el == "t") {
      in_value = false;
    } else if (el == "c" && cell != nullptr) {
      if (cell->type == 'S') {  // shared string: <v> holds its index
        size_t i = 0;
        const auto res = std::from_chars(cell->text.data(), cell->text.data() + cell->text.size(), i);
        if (res.ec != std::errc() || i >= shared_.size())
          throw InputError(concat(where(sheet, row.number, cell->col), ": shared string index \"", cell->text,
                                  "\" out of range (", shared_.size(), " strings; damaged workbook?)"));
        cell->text = shared_[i];
        cell->type = 's';
      }
      if (cell->text.empty() && cell->type == 'n') --row.size;  // an empty (formatted-only) cell
      cell = nullptr;
    } else if (el == "row") {
      if (row.size > 0) on_row(row);
    }
  };
  auto text = [&](const char* s, int len) {
    if (in_value && cell != nullptr) cell->text.append(s, static_cast<size_t>(len));
  };
  XmlParser parser(start, end, text);
  zip_file_t* f = zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0);
  if (f == nullptr) throw FileError(concat(what, ": cannot open: ", zip_strerror(zip_)));
  std::vector<char> buf(size_t{1} << 20);
  try {
    for (;;) {
      const zip_int64_t got = zip_fread(f, buf.data(), buf.size());
      if (got < 0)
        throw FileError(concat(what, ": cannot read: ", zip_file_strerror(f), " (truncated or damaged workbook?)"));
      parser.feed(buf.data(), static_cast<size_t>(got), got == 0, what);
      if (got == 0) break;
    }
  } catch (...) {
    zip_fclose(f);
    throw;
  }
  zip_fclose(f);
}

/// The number in `c`, or an InputError naming the cell and what it holds.
double number(const Workbook& wb, const std::string& sheet, int row, const Cell& c, const char* what) {
  if (c.type == 'n') {
    double v = 0;
    const char* b = c.text.data();
    const char* e = b + c.text.size();
    const auto res = std::from_chars(b, e, v);
    if (res.ec == std::errc() && res.ptr == e && std::isfinite(v)) return v;
  }
  throw InputError(concat(wb.where(sheet, row, c.col), " (", what, "): ",
                          c.type == 'e' ? "error value '" : "text '", c.text, "'; expected a number"));
}

// ---------------------------------------------------------------- the WIOT

constexpr int kFirstValueCol = 4;  // column E; A-D are the row labels
const std::vector<std::string> kCategories{"CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"};
const std::vector<std::string> kBottomRows{"II_fob", "TXSP", "EXP_adj", "PURR", "PURNR", "VA", "IntTTM", "GO"};

struct Layout {
  int code_row = 3, name_row = 4, country_row = 5;  // header rows (the published ones by default)
  std::vector<std::string> regions, sectors, sector_names, categories, category_names;
  int n = 0, ncat = 0;  // n sector columns, R*c final-demand columns
  int tot_col = -1;     // TOT column (sheet column index), -1 if absent
  int col(int j) const { return kFirstValueCol + j; }
};

/// A data row: most of its cells from column E on are numbers (header rows hold text).
bool is_data_row(const Row& row) {
  size_t values = 0, numbers = 0;
  for (size_t i = 0; i < row.size; ++i)
    if (row.cells[i].col >= kFirstValueCol) {
      ++values;
      numbers += row.cells[i].type == 'n';
    }
  return values > 0 && 2 * numbers > values;
}

/// Columns from the header rows: (country, code) pairs, region-major. The
/// header rows holding the codes, descriptions and countries are those whose
/// first value column repeats the first data row's labels (A, B, C), as in
/// the published file (rows 3, 4, 5, the default).
Layout parse_header(const Workbook& wb, const std::string& sheet, const std::map<int, Row>& header,
                    const Row& first) {
  Layout l;
  for (const auto& [r, row] : header) {
    const std::string e = row.text(kFirstValueCol);
    if (e.empty()) continue;
    if (e == first.text(0)) l.code_row = r;
    if (e == first.text(1)) l.name_row = r;
    if (e == first.text(2)) l.country_row = r;
  }
  const int code_row = l.code_row, country_row = l.country_row;
  for (int r : {l.code_row, l.name_row, l.country_row})
    if (!header.count(r))
      throw InputError(concat(wb.file(), ", sheet \"", sheet, "\": header row ", r, " (",
                              r == l.code_row ? "codes" : r == l.name_row ? "descriptions" : "countries",
                              ") is empty; expected the WIOD 2016 layout (codes in row 3, descriptions in row 4, "
                              "countries in row 5, data from row 7, values from column E)"));
  const Row& codes = header.at(l.code_row);
  const Row& names = header.at(l.name_row);
  const Row& countries = header.at(l.country_row);
  int last = kFirstValueCol - 1;
  for (size_t i = 0; i < codes.size; ++i) last = std::max(last, codes.cells[i].col);
  // Sector columns until the first final-demand code.
  int col = kFirstValueCol;
  std::vector<std::pair<std::string, std::string>> cols;  // (country, code)
  for (; col <= last; ++col) {
    const std::string code = codes.text(col);
    if (std::find(kCategories.begin(), kCategories.end(), code) != kCategories.end() || code == "TOT") break;
    const std::string country = countries.text(col);
    if (code.empty() || country.empty())
      throw InputError(concat(wb.where(sheet, code.empty() ? code_row : country_row, col), ": empty; expected ",
                              code.empty() ? "a sector code (A01 ..) in the codes row"
                                           : "a country code (AUS ..) in the countries row"));
    cols.emplace_back(country, code);
  }
  if (cols.empty())
    throw InputError(concat(wb.where(sheet, code_row, kFirstValueCol), ": '", codes.text(kFirstValueCol),
                            "'; expected the first sector code (A01) of the WIOD 2016 layout"));
  // Region-major with the same sectors in every region.
  for (const auto& [country, code] : cols) {
    if (l.regions.empty() || l.regions.back() != country) l.regions.push_back(country);
    if (l.regions.size() == 1) l.sectors.push_back(code);
  }
  const size_t N = l.sectors.size();
  if (cols.size() != l.regions.size() * N)
    throw InputError(concat(wb.file(), ", sheet \"", sheet, "\": ", cols.size(), " sector columns are not ",
                            l.regions.size(), " countries x ", N, " sectors; expected every country with the same "
                            "sectors, country by country"));
  for (size_t j = 0; j < cols.size(); ++j) {
    const int c = kFirstValueCol + static_cast<int>(j);
    if (cols[j].first != l.regions[j / N] || cols[j].second != l.sectors[j % N])
      throw InputError(concat(wb.where(sheet, code_row, c), ": ", cols[j].first, " ", cols[j].second, "; expected ",
                              l.regions[j / N], " ", l.sectors[j % N], " (columns country by country, the sectors "
                              "in the order of the first country)"));
  }
  for (size_t s = 0; s < N; ++s) l.sector_names.push_back(names.text(kFirstValueCol + static_cast<int>(s)));
  l.n = static_cast<int>(cols.size());
  // Final-demand columns: per country, in region order.
  std::vector<std::pair<std::string, std::string>> fd;
  for (; col <= last; ++col) {
    const std::string code = codes.text(col);
    if (code == "TOT") {
      l.tot_col = col;
      break;
    }
    if (std::find(kCategories.begin(), kCategories.end(), code) == kCategories.end())
      throw InputError(concat(wb.where(sheet, code_row, col), ": '", code, "'; expected a final-demand code (",
                              "CONS_h, CONS_np, CONS_g, GFCF, INVEN) or TOT"));
    fd.emplace_back(countries.text(col), code);
  }
  for (const auto& [country, code] : fd) {
    if (country == fd[0].first) {
      l.categories.push_back(code);
      l.category_names.push_back(names.text(kFirstValueCol + l.n + static_cast<int>(l.categories.size()) - 1));
    }
  }
  const size_t c = l.categories.size();
  if (fd.empty() || fd.size() != l.regions.size() * c)
    throw InputError(concat(wb.file(), ", sheet \"", sheet, "\": ", fd.size(), " final-demand columns; expected ",
                            l.regions.size(), " countries x the categories of the first (", c, ")"));
  for (size_t j = 0; j < fd.size(); ++j)
    if (fd[j].first != l.regions[j / c] || fd[j].second != l.categories[j % c])
      throw InputError(concat(wb.where(sheet, code_row, kFirstValueCol + l.n + static_cast<int>(j)), ": ",
                              fd[j].first, " ", fd[j].second, "; expected ", l.regions[j / c], " ",
                              l.categories[j % c], " (final demand country by country, as the sector columns)"));
  l.ncat = static_cast<int>(fd.size());
  return l;
}

/// The title and unit cells in column A of the header rows.
void parse_title(const std::map<int, Row>& header, std::string& year, std::string& unit) {
  static const std::regex trailing_year(R"((\d{4})\s*$)");
  for (const auto& [r, row] : header) {
    const std::string a = row.text(0);
    std::smatch m;
    if (year.empty() && std::regex_search(a, m, trailing_year)) year = m[1];
    if (unit.empty() && a.find("US$") != std::string::npos) {
      unit = a;
      if (unit.size() >= 2 && unit.front() == '(' && unit.back() == ')') unit = unit.substr(1, unit.size() - 2);
    }
  }
}

/// One environmental account: F (1 x n) and households (1 x R*c, CONS_h).
void read_env(const WiodEnvAccount& acc, const Layout& l, const std::string& year, Matrix& F, Index at,
              Matrix& F_Y) {
  Workbook wb(acc.path);
  const Index N = static_cast<Index>(l.sectors.size());
  const Index c = static_cast<Index>(l.categories.size());
  const auto cons_h = std::find(l.categories.begin(), l.categories.end(), "CONS_h");
  std::unordered_map<std::string, Index> sector_of;
  for (Index s = 0; s < N; ++s) sector_of[l.sectors[static_cast<size_t>(s)]] = s;
  auto is = [](std::string s, std::initializer_list<const char*> names) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
    for (const char* n : names)
      if (s == n) return true;
    return false;
  };
  for (size_t r = 0; r < l.regions.size(); ++r) {
    const std::string& region = l.regions[r];
    if (!wb.has_sheet(region)) {
      std::string have;
      for (const auto& n : wb.sheet_names()) have += (have.empty() ? "" : ", ") + n;
      throw InputError(concat(wb.file(), " (environmental account \"", acc.name, "\") has no sheet \"", region,
                              "\"; expected one sheet per country of the table; its sheets: ", have));
    }
    int year_col = -1;
    std::vector<bool> seen(static_cast<size_t>(N), false);
    wb.stream(region, [&](const Row& row) {
      if (year_col < 0) {  // the first row: the years
        std::string years;
        for (size_t i = 0; i < row.size; ++i) {
          std::string t = row.cells[i].text;
          if (t.size() > 2 && t.compare(t.size() - 2, 2, ".0") == 0) t.resize(t.size() - 2);
          if (row.cells[i].col > 0) years += (years.empty() ? "" : ", ") + t;
          if (row.cells[i].col > 0 && t == year) year_col = row.cells[i].col;
        }
        if (year_col < 0)
          throw InputError(concat(wb.file(), ", sheet \"", region, "\", row ", row.number, ": no column for ",
                                  year.empty() ? std::string("the table's year (unknown: give the WIOT its title)")
                                               : "year " + year,
                                  "; the header row has ", years.empty() ? std::string("no years") : years));
        return;
      }
      const std::string code = row.text(0);
      if (code.empty() || is(code, {"total", "tot", "sectot"})) return;
      const Cell* cell = row.find(year_col);
      const double v = cell ? number(wb, region, row.number, *cell, acc.name.c_str()) : 0.0;
      if (is(code, {"hh", "fc_hh", "households"})) {
        if (cons_h == l.categories.end())
          throw InputError(concat(wb.where(region, row.number, 0), ": households row, but the table has no CONS_h"));
        F_Y(at, static_cast<Index>(r) * c + (cons_h - l.categories.begin())) += v;
        return;
      }
      std::string key = code;
      if (key.rfind("sec", 0) == 0 && !sector_of.count(key)) key = key.substr(3);  // 2013 release style "secA01"
      const auto it = sector_of.find(key);
      if (it == sector_of.end())
        throw InputError(concat(wb.where(region, row.number, 0), ": '", code, "' is not a sector code of the table "
                                "(", l.sectors.front(), " .. ", l.sectors.back(), ") nor a households or total row"));
      if (seen[static_cast<size_t>(it->second)])
        throw InputError(concat(wb.where(region, row.number, 0), ": sector ", code, " listed twice"));
      seen[static_cast<size_t>(it->second)] = true;
      F(at, static_cast<Index>(r) * N + it->second) = v;
    });
    if (year_col < 0)
      throw InputError(concat(wb.file(), ", sheet \"", region, "\" is empty; expected a header row of years"));
    for (Index s = 0; s < N; ++s)
      if (!seen[static_cast<size_t>(s)])
        throw InputError(concat(wb.file(), ", sheet \"", region, "\" has no row for sector ",
                                l.sectors[static_cast<size_t>(s)], " (column A); expected one row per sector"));
  }
}

}  // namespace

WiodTable read_wiod2016(const std::string& path, const WiodOptions& options) {
  const Workbook wb(path);
  WiodTable out;
  std::string year;
  {
    static const std::regex in_name(R"(WIOT(\d{4}))", std::regex::icase);
    std::smatch m;
    const std::string file = wb.file();
    if (std::regex_search(file, m, in_name)) year = m[1];
  }
  std::string sheet = options.sheet;
  if (sheet.empty()) sheet = !year.empty() && wb.has_sheet(year) ? year : wb.sheet_names().front();

  std::map<int, Row> header;
  Layout l;
  bool have_layout = false;
  std::string unit, title_year;
  std::vector<Eigen::Triplet<double, int>> z;
  Matrix Y;
  Vector tot;
  std::map<std::string, std::pair<Vector, Vector>> bottom;  // code -> (n sector cells, R*c final-demand cells)
  int next_sector = 0;  // data rows seen
  int last_row = 0;

  wb.stream(sheet, [&](const Row& row) {
    last_row = row.number;
    if (!have_layout && !is_data_row(row)) {
      header[row.number] = row;
      return;
    }
    if (!have_layout) {
      l = parse_header(wb, sheet, header, row);
      parse_title(header, title_year, unit);
      Y = Matrix::Zero(l.n, l.ncat);
      tot = Vector::Zero(l.n);
      z.reserve(static_cast<size_t>(l.n) * 64);
      have_layout = true;
    }
    const std::string code = row.text(0);
    const Index N = static_cast<Index>(l.sectors.size());
    if (next_sector < l.n) {  // a sector row: its labels must be those of column next_sector
      const std::string& want_region = l.regions[static_cast<size_t>(next_sector / N)];
      const std::string& want_sector = l.sectors[static_cast<size_t>(next_sector % N)];
      const std::string country = row.text(2);
      if (code != want_sector || country != want_region)
        throw InputError(concat(wb.where(sheet, row.number, code != want_sector ? 0 : 2), ": row labelled ", country,
                                " ", code, "; expected ", want_region, " ", want_sector,
                                " (rows in the order of the columns: column A the sector code, C the country)"));
      const int i = next_sector++;
      const std::string what = concat(country, " ", code, " row");
      for (size_t k = 0; k < row.size; ++k) {
        const Cell& cell = row.cells[k];
        const int j = cell.col - kFirstValueCol;
        if (j < 0) continue;
        if (j < l.n) {
          const double v = number(wb, sheet, row.number, cell, what.c_str());
          if (v != 0.0) z.emplace_back(i, j, v);
        } else if (j < l.n + l.ncat) {
          Y(i, j - l.n) = number(wb, sheet, row.number, cell, what.c_str());
        } else if (cell.col == l.tot_col) {
          tot[i] = number(wb, sheet, row.number, cell, what.c_str());
        }
      }
      return;
    }
    if (std::find(kBottomRows.begin(), kBottomRows.end(), code) == kBottomRows.end())
      throw InputError(concat(wb.where(sheet, row.number, 0), ": '", code, "' after the ", l.n,
                              " sector rows; expected one of II_fob, TXSP, EXP_adj, PURR, PURNR, VA, IntTTM, GO"));
    if (bottom.count(code)) throw InputError(concat(wb.where(sheet, row.number, 0), ": row ", code, " twice"));
    auto& [cells, fd] = bottom[code];
    cells = Vector::Zero(l.n);
    fd = Vector::Zero(l.ncat);
    for (size_t k = 0; k < row.size; ++k) {
      const Cell& cell = row.cells[k];
      const int j = cell.col - kFirstValueCol;
      if (j < 0 || cell.col == l.tot_col || j >= l.n + l.ncat) continue;  // the TOT column's corner: not read
      (j < l.n ? cells[j] : fd[j - l.n]) = number(wb, sheet, row.number, cell, (code + " row").c_str());
    }
  });
  if (!have_layout)
    throw InputError(concat(wb.file(), ", sheet \"", sheet, "\": no data rows (", last_row, " rows, none with numbers ",
                            "from column E); expected the WIOD 2016 layout with data from row 7"));
  if (next_sector < l.n)
    throw InputError(concat(wb.file(), ", sheet \"", sheet, "\": ", next_sector, " sector rows; expected ", l.n,
                            " (one per column; truncated table?)"));
  if (!bottom.count("GO"))
    throw InputError(concat(wb.file(), ", sheet \"", sheet, "\": no GO row (output at basic prices) after the ",
                            "sector rows; it gives gross output x"));

  const Index n = l.n;
  SparseMatrix Z(n, n);
  Z.setFromTriplets(z.begin(), z.end());
  std::vector<Eigen::Triplet<double, int>>().swap(z);
  const Vector& x = bottom["GO"].first;
  const Vector colsum = Vector::Ones(n).transpose() * Z;
  const Vector rowsum = Z * Vector::Ones(n) + Y.rowwise().sum();

  // Identities, relative to the output of the sector (or 1 where it is 0).
  auto worst = [&](const Vector& a, const Vector& b, const char* what) {
    for (Index i = 0; i < n; ++i) {
      const double rel = std::abs(a[i] - b[i]) / std::max(1.0, std::abs(x[i]));
      if (rel > out.max_imbalance) {
        out.max_imbalance = rel;
        out.imbalance = concat(what, " (", l.regions[static_cast<size_t>(i) / l.sectors.size()], " ",
                               l.sectors[static_cast<size_t>(i) % l.sectors.size()], ")");
      }
    }
  };
  Vector inputs = colsum;
  std::vector<std::string> factors;
  for (const auto& code : kBottomRows)
    if (code != "II_fob" && code != "GO" && bottom.count(code)) {
      factors.push_back(code);
      inputs += bottom[code].first;
    }
  worst(inputs, x, "column: intermediate inputs + TXSP .. IntTTM vs GO");
  if (bottom.count("II_fob")) worst(bottom["II_fob"].first, colsum, "II_fob vs the column sum of Z");
  if (l.tot_col >= 0) {
    worst(rowsum, tot, "row: Z1 + Y1 vs TOT");
    worst(tot, x, "TOT vs GO");
  }

  SystemInput in;
  in.labels.regions = l.regions;
  in.labels.sectors = l.sectors;
  in.labels.fd_categories = l.categories;
  in.labels.monetary_unit = unit.empty() ? "millions of US$" : unit;
  const Index k = static_cast<Index>(factors.size() + options.env.size());
  in.F = Matrix::Zero(k, n);
  in.F_Y = Matrix::Zero(k, l.ncat);
  for (size_t f = 0; f < factors.size(); ++f) {
    in.F.row(static_cast<Index>(f)) = bottom[factors[f]].first.transpose();
    in.F_Y.row(static_cast<Index>(f)) = bottom[factors[f]].second.transpose();
    in.labels.stressors.push_back(flat_stressor_name("factor_inputs", "", factors[f]));
    in.labels.stressor_units.push_back(in.labels.monetary_unit);
  }
  if (year.empty()) year = title_year;
  for (size_t e = 0; e < options.env.size(); ++e) {
    const auto& acc = options.env[e];
    read_env(acc, l, year, in.F, static_cast<Index>(factors.size() + e), in.F_Y);
    in.labels.stressors.push_back(flat_stressor_name("env", "", acc.name));
    in.labels.stressor_units.push_back(acc.unit);
  }
  in.x = x;
  in.v = x - colsum;  // everything a column pays besides the table's intermediate inputs
  in.Y = std::move(Y);
  in.Z.swap(Z);

  out.year = year;
  out.sheet = sheet;
  out.sector_names = l.sector_names;
  out.category_names = l.category_names;
  out.factor_rows = factors;
  try {
    out.system = std::shared_ptr<MrioSystem>(new MrioSystem(MrioSystem::build(std::move(in))));  // built in place
  } catch (const InputError& e) {
    throw InputError(concat("WIOD \"", path, "\" is inconsistent: ", e.what()));
  }
  return out;
}

}  // namespace mriotrace::io
