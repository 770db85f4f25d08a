// Scenario operations: parameter specs, validation and the edits of A, Y, S.
//
// Every operation reads the current (already edited) values through the
// overlay, so operations compose in order. Each write is checked where it
// happens (no negative coefficient or intensity, column sums below 1, value
// added not negative), so the error can name the operation and parameter.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "mriotrace/error.hpp"
#include "mriotrace/scenario.hpp"
#include "scenario_edit.hpp"

namespace mriotrace {
namespace {

using scenario_detail::Edits;

// ---------------------------------------------------------------- specs
/// The label selections of the generic edits, after their own parameters.
std::vector<ParamSpec> with_selection(std::vector<ParamSpec> own) {
  for (const char* axis : {"row_regions", "row_sectors", "col_regions", "col_sectors"}) {
    const std::string a(axis);
    const bool row = a.rfind("row", 0) == 0;
    own.push_back({a, "labels", "", false,
                   std::string(row ? "A, Y: rows' " : "A, S: columns' ") + (a.find("regions") != a.npos ? "regions" : "sectors") +
                       " (default all)"});
  }
  own.push_back({"stressors", "labels", "", false, "S: stressors (default all)"});
  own.push_back({"fd_regions", "labels", "", false, "Y: final-demand regions (default all)"});
  own.push_back({"fd_categories", "labels", "", false, "Y: final-demand categories (default all)"});
  return own;
}

const std::map<std::string, std::vector<ParamSpec>>& specs() {
  static const std::map<std::string, std::vector<ParamSpec>> table = {
      {"relocate",
       {{"product", "label", "", true, "sector whose supply moves"},
        {"from", "label", "", true, "origin region r"},
        {"to", "label", "", true, "destination region s"},
        {"share", "share", "fraction of the origin's supply", false, "theta; give share, or quantity and price"},
        {"quantity", "positive", "physical unit (user's)", false, "moved physical quantity q; theta = q p / x_(r,i)"},
        {"price", "positive", "monetary unit per physical unit", false, "price p of the quantity"},
        {"technology", "choice", "", false, "\"destination\" (default): destination's column and intensities; "
                                            "\"new\": new_column and new_intensity"},
        {"new_column", "table", "monetary per monetary unit of output", false,
         "new capacity: input coefficient per sector (sourced like the destination's purchases)"},
        {"new_intensity", "table", "stressor unit per monetary unit", false, "new capacity: intensity per stressor"},
        {"electricity", "label", "", false, "electricity sector (for marginal_intensity)"},
        {"marginal_intensity", "table", "stressor unit per monetary unit of electricity", false,
         "additional electricity output in the destination counted at this intensity instead of the average"}}},
      {"couple_byproduct",
       {{"region", "label", "", true, "region of both plants"},
        {"supplier", "label", "", true, "sector delivering the off-gas (steel or coking)"},
        {"receiver", "label", "", true, "sector using it as feedstock (chemicals)"},
        {"displaced_fuel", "label", "", true, "sector whose coal / gas the receiver no longer buys"},
        {"gas_quantity", "positive", "energy unit (user's, e.g. tce)", true, "off-gas delivered, q_g"},
        {"gas_price", "number", "monetary unit per energy unit", true, "value of the off-gas (>= 0)"},
        {"displaced_quantity", "positive", "energy unit", false, "feedstock displaced (default gas_quantity)"},
        {"displaced_price", "number", "monetary unit per energy unit", true, "price of the displaced fuel"},
        {"replacement_fuel", "label", "", false, "sector the supplier buys replacement fuel from"},
        {"replacement_quantity", "number", "energy unit", false, "fuel the supplier buys for lost heat/power (default 0)"},
        {"replacement_price", "number", "monetary unit per energy unit", false, "price of the replacement fuel"},
        {"gas_ef", "table", "stressor unit per energy unit", false, "emission factor of burning the off-gas, EF_g"},
        {"displaced_ef", "table", "stressor unit per energy unit", false, "direct emissions of the displaced fuel"},
        {"replacement_ef", "table", "stressor unit per energy unit", false, "emission factor of the replacement, EF_rep"}}},
      {"integrate",
       {{"region", "label", "", true, "region of the complex"},
        {"chemical", "label", "", true, "chemical sector"},
        {"refining", "label", "", true, "refining sector"},
        {"feedstock_shift", "share", "fraction", true,
         "share of the chemical sector's refined-product purchases from other regions moved to the local refinery "
         "(with split: the new sector's, which it then makes itself)"},
        {"efficiency", "share", "fraction", true, "epsilon: both columns' utility inputs scale by (1 - epsilon) "
                                                  "(with split: the new sector's only)"},
        {"utilities", "labels", "", true, "input sectors counted as fuel, steam and hydrogen"},
        {"emission_reduction", "share", "fraction", false, "direct intensities of both scale by (1 - this); "
                                                           "default efficiency (with split: the new sector's only)"},
        {"stressors", "labels", "", false, "stressors emission_reduction applies to (default all)"},
        {"split", "label", "", false, "name of a new sector for the integrated complex, appended in every region "
                                      "(not yet a sector; the scenario's last operation)"},
        {"split_share", "share", "fraction of the chemical sector", false,
         "s in (0, 1]: share of the chemical sector's sales the new sector takes over (default 1; needs split)"}}},
      {"green_power",
       {{"region", "label", "", true, "region of the park"},
        {"sectors", "labels", "", true, "park sectors"},
        {"share", "share", "fraction of their electricity", true, "phi"},
        {"electricity", "label", "", true, "electricity sector"},
        {"supplier_region", "label", "", false, "existing low-carbon supplier's region (default: new capacity in region)"},
        {"additional", "flag", "", false, "new (additional) supply (default true); false keeps physical flows"},
        {"intensity", "table", "stressor unit per monetary unit", false, "new capacity's intensity (default 0)"},
        {"column", "table", "monetary per monetary unit of output", false,
         "new capacity's input coefficients per sector (default: the grid's column)"}}},
      {"electrify",
       {{"region", "label", "", true, "region"},
        {"sector", "label", "", true, "sector whose process is electrified"},
        {"share", "share", "fraction of its coal use", true, "alpha"},
        {"coal", "label", "", true, "coal supplying sector"},
        {"electricity", "label", "", true, "electricity sector"},
        {"eta_coal", "share", "efficiency", true, "efficiency of the coal process, eta_coal"},
        {"eta_el", "share", "efficiency", true, "efficiency of the electric process, eta_el"},
        {"coal_price", "positive", "monetary unit per energy unit", true, "price of coal"},
        {"electricity_price", "positive", "monetary unit per energy unit", true, "price of electricity"},
        {"coal_ef", "table", "stressor unit per energy unit of coal", false, "direct emission factor of the coal burned"},
        {"electricity_ef", "table", "stressor unit per energy unit of electricity", false,
         "direct stressor per electricity used on site (e.g. energy accounting)"}}},
      {"scale", with_selection({{"matrix", "choice", "", true, "\"A\", \"S\" or \"Y\""},
                                {"factor", "number", "", true, "multiplier (>= 0)"}})},
      {"set", with_selection({{"matrix", "choice", "", true, "\"A\", \"S\" or \"Y\""},
                              {"value", "number", "unit of the matrix", true, "new value of every selected cell"}})},
  };
  return table;
}

std::string quoted_list(const std::vector<std::string>& names, size_t max = 12) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size() && i < max; ++i) os << (i ? ", " : "") << '"' << names[i] << '"';
  if (names.size() > max) os << ", ... (" << names.size() << " in all)";
  return os.str();
}

std::string value_text(const ParamValue& v) {
  std::ostringstream os;
  if (const bool* b = std::get_if<bool>(&v)) os << (*b ? "true" : "false");
  else if (const double* d = std::get_if<double>(&v)) os << *d;
  else if (const std::string* s = std::get_if<std::string>(&v)) os << '"' << *s << '"';
  else if (const auto* l = std::get_if<std::vector<std::string>>(&v)) os << '[' << quoted_list(*l, 4) << ']';
  else {
    const auto& t = std::get<std::map<std::string, double>>(v);
    os << '{';
    size_t i = 0;
    for (const auto& [key, val] : t) os << (i++ ? ", " : "") << key << " = " << val;
    os << '}';
  }
  return os.str();
}

/// Typed, checked access to one operation's parameters. Every error names the
/// scenario, the operation (position and kind) and the parameter.
class Op {
 public:
  Op(const MrioSystem& sys, const Scenario& sc, size_t pos, const Operation& op)
      : sys_(sys), l_(sys.labels()), op_(op) {
    where_ = detail::concat("scenario \"", sc.name, "\", operation ", pos + 1, " (", op.kind, ")");
    const auto& all = specs();
    auto it = all.find(op.kind);
    if (it == all.end())
      throw InputError(detail::concat(where_, ": unknown operation kind; expected one of ",
                                      quoted_list(operation_kinds())));
    spec_ = &it->second;
    for (const auto& [name, value] : op.params) {
      const ParamSpec* ps = find(name);
      if (!ps) {
        std::vector<std::string> names;
        for (const auto& s : *spec_) names.push_back(s.name);
        fail(name, detail::concat("unknown parameter; expected one of ", quoted_list(names, 20)));
      }
    }
    for (const auto& s : *spec_)
      if (s.required && !op.params.count(s.name)) fail(s.name, "is required (" + s.help + ")");
  }

  [[noreturn]] void fail(const std::string& param, const std::string& what) const {
    throw InputError(detail::concat(where_, ": parameter \"", param, "\" ", what));
  }
  [[noreturn]] void fail_op(const std::string& what) const { throw InputError(detail::concat(where_, ": ", what)); }
  const std::string& where() const { return where_; }

  bool has(const std::string& name) const { return op_.params.count(name) > 0; }

  double number(const std::string& name, double fallback = NAN) const {
    auto it = op_.params.find(name);
    if (it == op_.params.end()) return fallback;
    const double* d = std::get_if<double>(&it->second);
    if (!d) fail(name, "= " + value_text(it->second) + "; expected a number");
    if (!std::isfinite(*d)) fail(name, detail::concat("= ", *d, "; expected a finite number"));
    const std::string& type = find(name)->type;
    if (type == "share" && !(*d >= 0 && *d <= 1)) fail(name, detail::concat("= ", *d, "; expected a share in [0, 1]"));
    if (type == "positive" && !(*d > 0)) fail(name, detail::concat("= ", *d, "; expected a number > 0"));
    return *d;
  }
  double nonneg(const std::string& name, double fallback = NAN) const {
    const double d = number(name, fallback);
    if (d < 0) fail(name, detail::concat("= ", d, "; expected a number >= 0"));
    return d;
  }
  bool flag(const std::string& name, bool fallback) const {
    auto it = op_.params.find(name);
    if (it == op_.params.end()) return fallback;
    const bool* b = std::get_if<bool>(&it->second);
    if (!b) fail(name, "= " + value_text(it->second) + "; expected true or false");
    return *b;
  }
  std::string text(const std::string& name, const std::string& fallback = "") const {
    auto it = op_.params.find(name);
    if (it == op_.params.end()) return fallback;
    const std::string* s = std::get_if<std::string>(&it->second);
    if (!s) fail(name, "= " + value_text(it->second) + "; expected a text label");
    return *s;
  }
  std::string choice(const std::string& name, const std::vector<std::string>& options) const {
    const std::string s = text(name, options.front());
    if (std::find(options.begin(), options.end(), s) == options.end())
      fail(name, "= \"" + s + "\"; expected one of " + quoted_list(options));
    return s;
  }
  std::vector<std::string> labels(const std::string& name) const {
    auto it = op_.params.find(name);
    if (it == op_.params.end()) return {};
    if (const std::string* s = std::get_if<std::string>(&it->second)) return {*s};
    const auto* l = std::get_if<std::vector<std::string>>(&it->second);
    if (!l) fail(name, "= " + value_text(it->second) + "; expected a list of labels");
    if (l->empty()) fail(name, "is an empty list; leave it out to select all");
    return *l;
  }
  Index lookup(const std::string& name, const std::string& label, const std::vector<std::string>& known,
               const char* axis) const {
    auto it = std::find(known.begin(), known.end(), label);
    if (it == known.end())
      fail(name, detail::concat("= \"", label, "\" is not a known ", axis, "; known: ", quoted_list(known)));
    return static_cast<Index>(it - known.begin());
  }
  Index region(const std::string& name) const { return lookup(name, text(name), l_.regions, "region"); }
  Index sector(const std::string& name) const { return lookup(name, text(name), l_.sectors, "sector"); }
  /// Selected indices of an axis; all when the parameter is absent.
  std::vector<Index> select(const std::string& name, const std::vector<std::string>& known, const char* axis) const {
    std::vector<Index> out;
    if (!has(name)) {
      for (Index i = 0; i < static_cast<Index>(known.size()); ++i) out.push_back(i);
      return out;
    }
    for (const auto& label : labels(name)) out.push_back(lookup(name, label, known, axis));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  /// label -> number table keyed by stressors (axis "stressor") or sectors.
  std::map<Index, double> table(const std::string& name, const std::vector<std::string>& known, const char* axis,
                                bool nonnegative = true) const {
    std::map<Index, double> out;
    auto it = op_.params.find(name);
    if (it == op_.params.end()) return out;
    const auto* t = std::get_if<std::map<std::string, double>>(&it->second);
    if (!t) fail(name, "= " + value_text(it->second) + detail::concat("; expected a table {", axis, " = number}"));
    for (const auto& [label, value] : *t) {
      const Index i = lookup(name, label, known, axis);
      if (!std::isfinite(value) || (nonnegative && value < 0))
        fail(name, detail::concat("[\"", label, "\"] = ", value, "; expected a finite number >= 0"));
      out[i] = value;
    }
    return out;
  }
  std::map<Index, double> stressor_table(const std::string& name) const {
    return table(name, l_.stressors, "stressor");
  }

  /// "relocate: product = ...; share = 0.3 [fraction of the origin's supply]; ..."
  std::string note() const {
    std::ostringstream os;
    os << op_.kind << ':';
    size_t i = 0;
    for (const auto& s : *spec_) {
      auto it = op_.params.find(s.name);
      if (it == op_.params.end()) continue;
      os << (i++ ? "; " : " ") << s.name << " = " << value_text(it->second);
      if (!s.unit.empty()) os << " [" << s.unit << ']';
    }
    return os.str();
  }

 private:
  const ParamSpec* find(const std::string& name) const {
    for (const auto& s : *spec_)
      if (s.name == name) return &s;
    return nullptr;
  }
  const MrioSystem& sys_;
  const Labels& l_;
  const Operation& op_;
  const std::vector<ParamSpec>* spec_ = nullptr;
  std::string where_;
};

/// The overlay of one scenario over the base, with conflict tracking: a cell
/// written by a "set" may not be written by any other operation (the result
/// would depend on their order in a way nobody means).
class Editor {
 public:
  Editor(const MrioSystem& base, Edits& e, const Vector& column_sums)
      : b_(base), e_(e), N_(base.N()), colsum_(column_sums) {}

  Index pos(Index region, Index sector) const { return region * N_ + sector; }
  std::string cell_name(Index p) const {
    const auto& l = b_.labels();
    return detail::concat("(", l.regions[static_cast<size_t>(p / N_)], ", ", l.sectors[static_cast<size_t>(p % N_)],
                          ")");
  }

  void begin(const Op* op, size_t index, bool is_set) {
    op_ = op;
    index_ = index;
    is_set_ = is_set;
    columns_.clear();
  }

  double a(Index row, Index col) const {
    auto it = e_.A.find({col, row});
    return it != e_.A.end() ? it->second : b_.A().coeff(row, col);
  }
  void set_a(Index row, Index col, double value) { add_a(row, col, value - a(row, col)); }
  /// A[row, col] += delta, with delta kept exactly as given.
  void add_a(Index row, Index col, double delta) {
    const double value = a(row, col) + delta;
    if (!(value >= 0))
      op_->fail_op(detail::concat("coefficient A[", cell_name(row), ", ", cell_name(col), "] would become ", value,
                                  "; expected >= 0 (no negative coefficients)"));
    touch('A', row, col);
    e_.A[{col, row}] = value;
    e_.dA[{col, row}] += delta;
    col_delta_[col] += delta;
    columns_.insert(col);
  }
  double y(Index row, Index col) const {
    auto it = e_.Y.find(row);
    return it != e_.Y.end() ? it->second[col] : b_.Y()(row, col);
  }
  void set_y(Index row, Index col, double value) { add_y(row, col, value - y(row, col)); }
  void add_y(Index row, Index col, double delta) {
    touch('Y', row, col);
    auto it = e_.Y.find(row);
    if (it == e_.Y.end()) {
      it = e_.Y.emplace(row, RowVector(b_.Y().row(row))).first;
      e_.dY.emplace(row, RowVector::Zero(b_.Y().cols()));
    }
    it->second[col] += delta;
    e_.dY[row][col] += delta;
  }
  double s(Index stressor, Index col) const {
    auto it = e_.S.find(col);
    return it != e_.S.end() ? it->second[stressor] : b_.S()(stressor, col);
  }
  void set_s(Index stressor, Index col, double value) {
    if (!(value >= 0) && b_.S()(stressor, col) >= 0)
      op_->fail_op(detail::concat("intensity S[\"", b_.labels().stressors[static_cast<size_t>(stressor)], "\", ",
                                  cell_name(col), "] would become ", value, "; expected >= 0"));
    touch('S', stressor, col);
    auto it = e_.S.find(col);
    if (it == e_.S.end()) it = e_.S.emplace(col, Vector(b_.S().col(col))).first;
    it->second[stressor] = value;
  }
  /// Sum of the changes of column `col` of A so far (all operations).
  double column_change(Index col) const {
    auto it = col_delta_.find(col);
    return it == col_delta_.end() ? 0.0 : it->second;
  }
  /// Current column sum of A (base sum plus the changes so far).
  double column_sum(Index col) const { return colsum_[col] + column_change(col); }
  /// Base column nonzeros plus edited cells of column `col` (rows, sorted).
  std::vector<Index> column_rows(Index col) const {
    std::vector<Index> rows;
    for (SparseMatrix::InnerIterator it(b_.A(), col); it; ++it) rows.push_back(it.row());
    for (auto it = e_.A.lower_bound({col, 0}); it != e_.A.end() && it->first.first == col; ++it)
      rows.push_back(it->first.second);
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
  }

  /// Column sums below 1 and value added not negative in every column this
  /// operation touched.
  void check_columns() const {
    const Vector& x = b_.x();
    for (Index col : columns_) {
      // Sums from the base column sums and the accumulated changes: O(1) per column.
      const double delta = col_delta_.at(col), sum = colsum_[col] + delta;
      if (!(sum < 1))
        op_->fail_op(detail::concat("column ", cell_name(col), " of A would sum to ", sum,
                                    "; expected < 1 (a productive system)"));
      if (b_.has_value_added() && x[col] > 0) {
        const double vc = b_.v()[col] / x[col] - delta;
        if (vc < -1e-12)
          op_->fail_op(detail::concat("value added of ", cell_name(col), " would become negative (",
                                      vc, " per unit of output); the edit buys more inputs than the sector earns"));
      }
    }
  }

 private:
  void touch(char matrix, Index i, Index j) {
    auto [it, inserted] = cells_.try_emplace({matrix, i, j}, Writer{index_, is_set_});
    if (inserted || it->second.op == index_) return;
    if (it->second.is_set || is_set_) {
      std::string cell = matrix == 'A'   ? detail::concat("A[", cell_name(i), ", ", cell_name(j), "]")
                         : matrix == 'S' ? detail::concat("S[\"", b_.labels().stressors[static_cast<size_t>(i)],
                                                          "\", ", cell_name(j), "]")
                                         : detail::concat("Y[", cell_name(i), ", column ", j, "]");
      op_->fail_op(detail::concat("conflicts with operation ", it->second.op + 1, " on ", cell,
                                  ": a \"set\" and another edit of the same cell; combine them into one"));
    }
  }
  struct Writer {
    size_t op;
    bool is_set;
  };
  const MrioSystem& b_;
  Edits& e_;
  Index N_;
  const Op* op_ = nullptr;
  size_t index_ = 0;
  bool is_set_ = false;
  std::set<Index> columns_;
  const Vector& colsum_;               // base column sums of A
  std::map<Index, double> col_delta_;  // column -> sum of its changes so far
  std::map<std::tuple<char, Index, Index>, Writer> cells_;
};

// ------------------------------------------------------------- operations

/// Move share theta of the purchases of (from, i) in every column and every
/// final-demand column to (to, i):  A'[(s,i),c] = A[(s,i),c] + theta A[(r,i),c],
/// A'[(r,i),c] = (1 - theta) A[(r,i),c]; same on Y.
void relocate(const Op& op, Editor& ed, Edits& e, const MrioSystem& b) {
  const Index i = op.sector("product"), r = op.region("from"), s = op.region("to");
  if (r == s) op.fail("to", "is the same region as \"from\"; expected another region");
  const Index ri = ed.pos(r, i), si = ed.pos(s, i);
  double theta;
  if (op.has("share")) {
    if (op.has("quantity") || op.has("price")) op.fail("quantity", "cannot be combined with share; give one of them");
    theta = op.number("share");
  } else {
    if (!op.has("quantity") || !op.has("price")) op.fail("share", "is missing; give share, or quantity and price");
    const double q = op.number("quantity"), p = op.number("price");
    if (!(b.x()[ri] > 0)) op.fail("quantity", "cannot be converted: the origin's output of the product is 0");
    theta = q * p / b.x()[ri];
    if (theta > 1)
      op.fail("quantity", detail::concat("* price = ", q * p, " exceeds the origin's output ", b.x()[ri],
                                         " (share ", theta, " > 1)"));
  }
  const std::string tech = op.choice("technology", {"destination", "new"});
  if (tech == "destination" && (op.has("new_column") || op.has("new_intensity")))
    op.fail("technology", "= \"destination\" but new_column / new_intensity are given; set technology = \"new\"");
  if (tech == "new" && (!op.has("new_column") || !op.has("new_intensity")))
    op.fail(op.has("new_column") ? "new_intensity" : "new_column", "is required with technology = \"new\"");
  if (tech == "destination" && theta > 0 && !(b.x()[si] > 0))
    op.fail("to", "region produces none of the product, so it has no technology to copy; "
                  "give technology = \"new\" with new_column and new_intensity");
  const auto new_column = op.table("new_column", b.labels().sectors, "sector");
  const auto new_intensity = op.stressor_table("new_intensity");
  const auto marginal = op.stressor_table("marginal_intensity");
  if (!marginal.empty() && !op.has("electricity")) op.fail("electricity", "is required with marginal_intensity");
  const Index el = op.has("electricity") ? op.sector("electricity") : -1;
  if (theta == 0) return;

  const Index n = b.n();
  for (Index c = 0; c < n; ++c) {
    const double ar = ed.a(ri, c);
    if (ar == 0) continue;
    ed.add_a(si, c, theta * ar);
    ed.add_a(ri, c, -theta * ar);
  }
  for (Index f = 0; f < b.Y().cols(); ++f) {
    const double yr = ed.y(ri, f);
    if (yr == 0) continue;
    ed.add_y(si, f, theta * yr);
    ed.add_y(ri, f, -theta * yr);
  }
  if (tech == "new") {
    // The destination's column becomes the output-weighted mix of its own
    // technology and the new capacity's (weights from base outputs).
    const double moved = theta * b.x()[ri];
    const double w = moved / (b.x()[si] + moved);
    const Index R = b.R();
    std::map<Index, double> target;  // row -> new-capacity coefficient
    for (const auto& [k, coef] : new_column) {
      double total = 0;
      for (Index t = 0; t < R; ++t) total += ed.a(ed.pos(t, k), si);
      for (Index t = 0; t < R; ++t) {
        const double part = total > 0 ? ed.a(ed.pos(t, k), si) / total : (t == s ? 1.0 : 0.0);
        if (part > 0) target[ed.pos(t, k)] = coef * part;
      }
    }
    std::vector<Index> rows = ed.column_rows(si);
    for (const auto& [row, coef] : target) rows.push_back(row);
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (Index row : rows) {
      auto it = target.find(row);
      ed.set_a(row, si, (1 - w) * ed.a(row, si) + w * (it == target.end() ? 0.0 : it->second));
    }
    for (const auto& [k, value] : new_intensity) ed.set_s(k, si, (1 - w) * ed.s(k, si) + w * value);
  }
  if (!marginal.empty()) e.marginal.push_back({ed.pos(s, el), marginal});
  e.origins.insert(r);
}

/// Shrink the purchases of `sector` (from every region) in column c by the
/// monetary amount `amount`, in proportion to where they come from.
void reduce_purchases(const Op& op, Editor& ed, const MrioSystem& b, Index sector, Index c, double amount,
                      const std::string& param) {
  double total = 0;
  for (Index t = 0; t < b.R(); ++t) total += ed.a(ed.pos(t, sector), c) * b.x()[c];
  if (amount > total * (1 + 1e-12))
    op.fail(param, detail::concat("implies purchases of ", amount, " (monetary) but ", ed.cell_name(c), " buys only ",
                                  total, " from \"", b.labels().sectors[static_cast<size_t>(sector)], "\""));
  if (amount == 0) return;
  const double keep = 1 - amount / total;
  for (Index t = 0; t < b.R(); ++t) {
    const Index row = ed.pos(t, sector);
    const double v = ed.a(row, c);
    if (v != 0) ed.set_a(row, c, std::max(0.0, keep * v));
  }
}

void add_emissions(Editor& ed, const MrioSystem& b, Index c, const std::map<Index, double>& dF) {
  for (const auto& [k, delta] : dF)
    if (delta != 0) ed.set_s(k, c, ed.s(k, c) + delta / b.x()[c]);
}

/// Steel-chemical coupling (METHODS "Coupled production").
void couple_byproduct(const Op& op, Editor& ed, const MrioSystem& b) {
  const Index r = op.region("region"), sup = op.sector("supplier"), rec = op.sector("receiver");
  const Index fuel = op.sector("displaced_fuel");
  if (sup == rec) op.fail("receiver", "is the same sector as supplier");
  const double qg = op.number("gas_quantity"), pg = op.nonneg("gas_price");
  const double qd = op.has("displaced_quantity") ? op.number("displaced_quantity") : qg;
  const double pd = op.nonneg("displaced_price");
  const double qrep = op.nonneg("replacement_quantity", 0.0);
  if (qrep > 0 && (!op.has("replacement_fuel") || !op.has("replacement_price")))
    op.fail(op.has("replacement_fuel") ? "replacement_price" : "replacement_fuel",
            "is required when replacement_quantity > 0");
  const double prep = op.nonneg("replacement_price", 0.0);
  const Index rep = op.has("replacement_fuel") ? op.sector("replacement_fuel") : -1;
  const auto gas_ef = op.stressor_table("gas_ef"), disp_ef = op.stressor_table("displaced_ef"),
             rep_ef = op.stressor_table("replacement_ef");
  const Index cs = ed.pos(r, sup), cr = ed.pos(r, rec);
  if (!(b.x()[cs] > 0) || !(b.x()[cr] > 0))
    op.fail(b.x()[cs] > 0 ? "receiver" : "supplier", "has no output in this region; nothing to couple");
  // Receiver: buys the off-gas from the supplier, less displaced fuel.
  ed.set_a(cs, cr, ed.a(cs, cr) + qg * pg / b.x()[cr]);
  reduce_purchases(op, ed, b, fuel, cr, qd * pd, "displaced_quantity");
  // Supplier: buys replacement fuel for the heat and power the gas gave.
  if (qrep > 0) ed.set_a(ed.pos(r, rep), cs, ed.a(ed.pos(r, rep), cs) + qrep * prep / b.x()[cs]);
  // dF_supplier = -q_g EF_g + q_rep EF_rep;  dF_receiver = -q_d EF_displaced.
  std::map<Index, double> dfs, dfr;
  for (const auto& [k, ef] : gas_ef) dfs[k] -= qg * ef;
  for (const auto& [k, ef] : rep_ef) dfs[k] += qrep * ef;
  for (const auto& [k, ef] : disp_ef) dfr[k] -= qd * ef;
  add_emissions(ed, b, cs, dfs);
  add_emissions(ed, b, cr, dfr);
}

/// `integrate` with `split`: the integrated complex becomes a new sector N_c of
/// region r (docs/scenarios.md). Nothing of the base shape is edited here: the
/// chemical and refining columns keep their technology; the new sector's
/// column, intensities and value added are computed from the current values
/// and checked, and reshape() builds the system with the extra sector.
///   column:  c = A'[:, chem] with the feedstock shift sigma applied; then the
///            refining stage is internalised: a = c[(r, ref)] is removed and
///            a A'[:, ref] added; then utility rows scale by (1 - eps).
///   S:       (S'[:, chem] + a S'[:, ref]), the `stressors` times (1 - red).
///   v/x:     vc_chem + a vc_ref + (sum of c before eps - sum of c after eps),
///            so that with eps = 0 the complex adds exactly the value added of
///            the two stages it replaces (also when v differs from x - Z'1).
void split_off(const Op& op, Editor& ed, const MrioSystem& b, Edits& e, Index r, Index chem, Index ref, double sigma,
               double eps, double red, const std::vector<Index>& utilities, const std::vector<Index>& stressors) {
  const Labels& l = b.labels();
  const std::string label = op.text("split");
  if (label.empty()) op.fail("split", "is empty; expected the name of the new sector");
  if (std::find(l.sectors.begin(), l.sectors.end(), label) != l.sectors.end())
    op.fail("split", "= \"" + label + "\" is already a sector; expected the name of a new one");
  const double s = op.number("split_share", 1.0);
  if (!(s > 0)) op.fail("split_share", "= 0; expected a share in (0, 1] (0 splits nothing off)");
  const Index cc = ed.pos(r, chem), cr = ed.pos(r, ref);
  if (!(b.x()[cc] > 0))
    op.fail("split", detail::concat("= \"", label, "\": ", ed.cell_name(cc), " has no output; nothing to split off"));
  std::map<Index, double> col;
  for (Index row : ed.column_rows(cc))
    if (const double v = ed.a(row, cc); v != 0) col[row] = v;
  double moved = 0;
  for (Index t = 0; t < b.R(); ++t) {
    auto it = col.find(ed.pos(t, ref));
    if (t == r || it == col.end() || sigma == 0) continue;
    moved += sigma * it->second;
    it->second *= 1 - sigma;
  }
  if (moved > 0) col[cr] += moved;
  const double a = col.count(cr) ? col[cr] : 0.0;
  col.erase(cr);
  if (a > 0)
    for (Index row : ed.column_rows(cr))
      if (const double v = ed.a(row, cr); v != 0) col[row] += a * v;
  double before = 0, after = 0;
  for (auto& [row, v] : col) {
    before += v;
    if (eps != 0 && std::binary_search(utilities.begin(), utilities.end(), row % b.N())) v *= 1 - eps;
    after += v;
  }
  scenario_detail::SplitSector sp;
  sp.label = label;
  sp.region = r;
  sp.chemical = chem;
  sp.share = s;
  for (const auto& [row, v] : col)
    if (v != 0) sp.column.emplace_back(row, v);
  const std::string cell = detail::concat("(", l.regions[static_cast<size_t>(r)], ", ", label, ")");
  const std::string where = detail::concat("= \"", label, "\": the new sector ", cell);
  if (!(after < 1))
    op.fail("split", detail::concat(where, " would have a column of A summing to ", after,
                                    "; expected < 1 (a productive system): it buys ", ed.cell_name(cc),
                                    "'s inputs plus ", a, " x the column of ", ed.cell_name(cr), ", which sums to ",
                                    ed.column_sum(cr)));
  sp.intensity.resize(b.k());
  for (Index k = 0; k < b.k(); ++k) sp.intensity[k] = ed.s(k, cc) + a * ed.s(k, cr);
  if (red > 0)
    for (Index k : stressors) sp.intensity[k] *= 1 - red;
  for (Index k = 0; k < b.k(); ++k)
    if (!(sp.intensity[k] >= 0) && (b.S()(k, cc) >= 0 && b.S()(k, cr) >= 0))
      op.fail("split", detail::concat(where, " would have intensity ", sp.intensity[k], " of \"",
                                      l.stressors[static_cast<size_t>(k)], "\"; expected >= 0"));
  if (b.has_value_added()) {
    auto vc = [&](Index c) { return (b.x()[c] > 0 ? b.v()[c] / b.x()[c] : 0.0) - ed.column_change(c); };
    sp.va_coefficient = vc(cc) + a * vc(cr) + (before - after);
    if (sp.va_coefficient < -1e-12)
      op.fail("split", detail::concat(where, " would have negative value added (", sp.va_coefficient,
                                      " per unit of output): ", ed.cell_name(cr), " earns ", vc(cr), " per unit"));
  }
  e.notes.push_back(detail::concat("  new sector ", cell, ": takes over ", s, " of ",
                                   ed.cell_name(cc), "'s sales; makes the refined products it bought from ",
                                   ed.cell_name(cr), " itself (", a, " per unit of output); column sum of A ", after));
  e.split.push_back(std::move(sp));
}

/// Refining-chemical integration (METHODS "Coupled production").
void integrate(const Op& op, Editor& ed, const MrioSystem& b, Edits& e) {
  const Index r = op.region("region"), chem = op.sector("chemical"), ref = op.sector("refining");
  if (chem == ref) op.fail("refining", "is the same sector as chemical");
  const double sigma = op.number("feedstock_shift"), eps = op.number("efficiency");
  const double red = op.has("emission_reduction") ? op.number("emission_reduction") : eps;
  const auto utilities = op.select("utilities", b.labels().sectors, "sector");
  const auto stressors = op.select("stressors", b.labels().stressors, "stressor");
  if (op.has("split_share") && !op.has("split"))
    op.fail("split_share", "is given without split; name the new sector with split = \"...\"");
  const Index cc = ed.pos(r, chem), cr = ed.pos(r, ref);
  if (op.has("split")) {
    split_off(op, ed, b, e, r, chem, ref, sigma, eps, red, utilities, stressors);
    return;
  }
  // Feedstock: refined products bought from other regions move to the local refinery.
  double moved = 0;
  for (Index t = 0; t < b.R(); ++t) {
    if (t == r) continue;
    const double v = ed.a(ed.pos(t, ref), cc);
    if (v == 0 || sigma == 0) continue;
    moved += sigma * v;
    ed.set_a(ed.pos(t, ref), cc, (1 - sigma) * v);
  }
  if (moved > 0) ed.set_a(cr, cc, ed.a(cr, cc) + moved);
  // Fuel, steam and hydrogen inputs of both columns scale by (1 - eps).
  for (Index c : {cc, cr})
    for (Index u : utilities)
      for (Index t = 0; t < b.R(); ++t) {
        const double v = ed.a(ed.pos(t, u), c);
        if (v != 0 && eps != 0) ed.set_a(ed.pos(t, u), c, (1 - eps) * v);
      }
  if (red > 0)
    for (Index c : {cc, cr})
      for (Index k : stressors) ed.set_s(k, c, (1 - red) * ed.s(k, c));
}

/// Green-power park (METHODS "Green-power park").
void green_power(const Op& op, Editor& ed, const MrioSystem& b, Edits& e) {
  const Index r = op.region("region"), el = op.sector("electricity");
  const auto park = op.select("sectors", b.labels().sectors, "sector");
  const double phi = op.number("share");
  const Index sr = op.has("supplier_region") ? op.region("supplier_region") : r;
  const bool additional = op.flag("additional", true);
  const auto intensity = op.stressor_table("intensity");
  const auto column = op.table("column", b.labels().sectors, "sector");
  const bool new_capacity = sr == r;
  if (!new_capacity && (op.has("intensity") || op.has("column")))
    op.fail(op.has("intensity") ? "intensity" : "column",
            "applies to new capacity only; an existing supplier keeps its own technology");
  if (std::find(park.begin(), park.end(), el) != park.end())
    op.fail("sectors", "include the electricity sector itself");
  if (!additional) {
    e.notes.push_back("  not additional: physical flows unchanged (residual mix), so the global change is zero");
    return;
  }
  if (phi == 0) return;
  const Index supplier = ed.pos(sr, el);
  // Park column c buys a_tc of electricity from each region t. With the
  // values before this operation (and base outputs x):
  //   green   = phi sum_t a_tc x_c          electricity of the park now green (monetary)
  //   shifted = phi sum_{t != sr} a_tc x_c  the part moved to the supplier from other regions
  //   a'_tc = (1 - phi) a_tc (t != sr),   a'_(sr)c = a_(sr)c + shifted / x_c
  // Every a_tc is read before the column is written: reading the supplier's
  // cell after other regions' shares were moved into it counted those moves
  // twice, so the result depended on the order of the regions.
  double park_el = 0, shifted = 0;
  for (Index j : park) {
    const Index c = ed.pos(r, j);
    double green = 0, moved = 0;
    for (Index t = 0; t < b.R(); ++t) {
      const Index row = ed.pos(t, el);
      const double v = ed.a(row, c);
      green += phi * v;
      if (row != supplier) moved += phi * v;
    }
    park_el += green * b.x()[c];
    shifted += moved * b.x()[c];
    if (moved == 0) continue;
    for (Index t = 0; t < b.R(); ++t) {
      const Index row = ed.pos(t, el);
      if (row == supplier) continue;
      const double v = ed.a(row, c);
      if (v != 0) ed.set_a(row, c, (1 - phi) * v);
    }
    ed.set_a(supplier, c, ed.a(supplier, c) + moved);
  }
  if (!new_capacity) return;
  if (!(b.x()[supplier] + shifted > 0)) op.fail("region", "has no electricity output to blend new capacity into");
  // New low-carbon capacity inside the region's power sector: its column and
  // intensity become the output-weighted mix (weight from base output).
  const double w = std::min(1.0, park_el / (b.x()[supplier] + shifted));
  for (Index k = 0; k < b.k(); ++k) {
    auto it = intensity.find(k);
    ed.set_s(k, supplier, (1 - w) * ed.s(k, supplier) + w * (it == intensity.end() ? 0.0 : it->second));
  }
  if (!column.empty()) {
    std::map<Index, double> target;
    for (const auto& [k, coef] : column) target[ed.pos(r, k)] = coef;
    std::vector<Index> rows = ed.column_rows(supplier);
    for (const auto& [row, coef] : target) rows.push_back(row);
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (Index row : rows) {
      auto it = target.find(row);
      ed.set_a(row, supplier, (1 - w) * ed.a(row, supplier) + w * (it == target.end() ? 0.0 : it->second));
    }
  }
  e.notes.push_back(detail::concat("  green share of ", ed.cell_name(supplier), "'s output: ", w));
}

/// Electrification (METHODS "Electrification").
void electrify(const Op& op, Editor& ed, const MrioSystem& b) {
  const Index r = op.region("region"), j = op.sector("sector"), coal = op.sector("coal"),
              el = op.sector("electricity");
  const double alpha = op.number("share"), eta_c = op.number("eta_coal"), eta_e = op.number("eta_el");
  if (eta_c == 0) op.fail("eta_coal", "= 0; expected an efficiency in (0, 1]");
  if (eta_e == 0) op.fail("eta_el", "= 0; expected an efficiency in (0, 1]");
  const double pc = op.number("coal_price"), pe = op.number("electricity_price");
  const auto coal_ef = op.stressor_table("coal_ef"), el_ef = op.stressor_table("electricity_ef");
  if (coal == el) op.fail("electricity", "is the same sector as coal");
  const Index c = ed.pos(r, j);
  if (!(b.x()[c] > 0)) op.fail("sector", "has no output in this region; nothing to electrify");
  double coal_spend = 0;
  for (Index t = 0; t < b.R(); ++t) coal_spend += ed.a(ed.pos(t, coal), c) * b.x()[c];
  // E_coal = spend / price; dE_coal = -alpha E_coal; E_el = alpha E_coal eta_coal / eta_el.
  const double E_coal = coal_spend / pc, E_el = alpha * E_coal * eta_c / eta_e;
  if (alpha == 0 || E_coal == 0) return;
  for (Index t = 0; t < b.R(); ++t) {
    const Index row = ed.pos(t, coal);
    const double v = ed.a(row, c);
    if (v != 0) ed.set_a(row, c, (1 - alpha) * v);
  }
  const Index er = ed.pos(r, el);
  ed.set_a(er, c, ed.a(er, c) + E_el * pe / b.x()[c]);
  std::map<Index, double> dF;
  for (const auto& [k, ef] : coal_ef) dF[k] -= alpha * E_coal * ef;
  for (const auto& [k, ef] : el_ef) dF[k] += E_el * ef;
  add_emissions(ed, b, c, dF);
}

/// Generic "scale" / "set" on A, S or Y by label selection.
void edit(const Op& op, Editor& ed, const MrioSystem& b, bool is_set) {
  const std::string matrix = op.choice("matrix", {"A", "S", "Y"});
  const double value = is_set ? op.number("value") : op.nonneg("factor");
  if (is_set && matrix != "Y" && value < 0) op.fail("value", detail::concat("= ", value, "; expected >= 0"));
  const Labels& l = b.labels();
  auto positions = [&](const char* regions, const char* sectors) {
    std::vector<Index> out;
    for (Index r : op.select(regions, l.regions, "region"))
      for (Index i : op.select(sectors, l.sectors, "sector")) out.push_back(ed.pos(r, i));
    return out;
  };
  auto unused = [&](std::initializer_list<const char*> names) {
    for (const char* name : names)
      if (op.has(name)) op.fail(name, "does not apply to matrix " + matrix);
  };
  if (matrix == "A") {
    unused({"stressors", "fd_regions", "fd_categories"});
    const auto rows = positions("row_regions", "row_sectors");
    for (Index c : positions("col_regions", "col_sectors"))
      for (Index row : rows) {
        const double v = ed.a(row, c);
        if (is_set ? v != value : (v != 0 && value != 1)) ed.set_a(row, c, is_set ? value : value * v);
      }
  } else if (matrix == "S") {
    unused({"row_regions", "row_sectors", "fd_regions", "fd_categories"});
    const auto ks = op.select("stressors", l.stressors, "stressor");
    for (Index c : positions("col_regions", "col_sectors"))
      for (Index k : ks) ed.set_s(k, c, is_set ? value : value * ed.s(k, c));
  } else {
    unused({"col_regions", "col_sectors", "stressors"});
    const auto rows = positions("row_regions", "row_sectors");
    const Index nc = b.c();
    for (Index r : op.select("fd_regions", l.regions, "region"))
      for (Index f : op.select("fd_categories", l.fd_categories, "final-demand category"))
        for (Index row : rows) ed.set_y(row, r * nc + f, is_set ? value : value * ed.y(row, r * nc + f));
  }
}

}  // namespace

const std::vector<std::string>& operation_kinds() {
  static const std::vector<std::string> kinds{"relocate", "couple_byproduct", "integrate", "green_power",
                                              "electrify", "scale", "set"};
  return kinds;
}

const std::vector<ParamSpec>& operation_parameters(const std::string& kind) {
  const auto& all = specs();
  auto it = all.find(kind);
  if (it == all.end())
    throw InputError(detail::concat("unknown operation kind \"", kind, "\"; expected one of ",
                                    quoted_list(operation_kinds())));
  return it->second;
}

namespace scenario_detail {

std::vector<Index> sector_indices(const Labels& labels, const std::vector<std::string>& names,
                                  const std::string& what) {
  std::vector<Index> out;
  for (const auto& name : names) {
    auto it = std::find(labels.sectors.begin(), labels.sectors.end(), name);
    if (it == labels.sectors.end())
      throw InputError(detail::concat(what, ": \"", name, "\" is not a known sector; known: ",
                                      quoted_list(labels.sectors)));
    out.push_back(static_cast<Index>(it - labels.sectors.begin()));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::pair<Index, Index>> resolve_targets(const MrioSystem& base, const Scenario& scenario) {
  std::vector<std::pair<Index, Index>> out;
  const Labels& l = base.labels();
  for (size_t t = 0; t < scenario.targets.size(); ++t) {
    const Target& target = scenario.targets[t];
    const std::string where = detail::concat("scenario \"", scenario.name, "\", target ", t + 1);
    const std::string& ind = target.indicator;
    const auto slash = ind.rfind('/');
    if (slash == std::string::npos || ind.substr(slash + 1) != "VA")
      throw InputError(detail::concat(where, ": indicator \"", ind,
                                      "\"; expected \"<stressor>/VA\", e.g. \"CO2/VA\" or \"Energy/VA\""));
    auto it = std::find(l.stressors.begin(), l.stressors.end(), ind.substr(0, slash));
    if (it == l.stressors.end())
      throw InputError(detail::concat(where, ": indicator \"", ind, "\" names an unknown stressor; known: ",
                                      quoted_list(l.stressors)));
    Index region = l.R();
    if (!target.region.empty() && target.region != "all") {
      auto rt = std::find(l.regions.begin(), l.regions.end(), target.region);
      if (rt == l.regions.end())
        throw InputError(detail::concat(where, ": region \"", target.region, "\" is not a known region; known: ",
                                        quoted_list(l.regions)));
      region = static_cast<Index>(rt - l.regions.begin());
    }
    if (!std::isfinite(target.change) || target.change <= -1)
      throw InputError(detail::concat(where, ": change = ", target.change,
                                      "; expected a relative change > -1 (e.g. -0.20 for 20 % lower)"));
    if (!base.has_value_added())
      throw InputError(detail::concat(where, ": the system has no value added; intensity targets need v"));
    if (!target.basis.empty() && target.basis != "industrial value added" && target.basis != "GDP" &&
        std::find(l.sectors.begin(), l.sectors.end(), target.basis) == l.sectors.end())
      throw InputError(detail::concat(where, ": basis = \"", target.basis,
                                      "\"; expected \"industrial value added\", \"GDP\" or a sector; known sectors: ",
                                      quoted_list(l.sectors)));
    if ((target.base_year == 0) != (target.target_year == 0) ||
        (target.target_year != 0 && target.target_year <= target.base_year))
      throw InputError(detail::concat(where, ": base_year = ", target.base_year, ", target_year = ",
                                      target.target_year, "; expected both (base_year < target_year) or neither"));
    if (!std::isnan(target.baseline_change) && (!target.va_growth.empty() || !target.intensity_trend.empty()))
      throw InputError(detail::concat(where, ": baseline_change is given with va_growth / intensity_trend; "
                                             "give the baseline change or the rates, not both"));
    if (!std::isnan(target.baseline_change) && !(target.baseline_change > -1))
      throw InputError(detail::concat(where, ": baseline_change = ", target.baseline_change,
                                      "; expected a relative change > -1"));
    if ((!target.va_growth.empty() || !target.intensity_trend.empty()) && target.target_year == 0)
      throw InputError(detail::concat(where, ": va_growth / intensity_trend are annual rates; "
                                             "give base_year and target_year"));
    for (const auto* rates : {&target.va_growth, &target.intensity_trend})
      for (const auto& [key, rate] : *rates) {
        const char* name = rates == &target.va_growth ? "va_growth" : "intensity_trend";
        if (key != "*" && std::find(l.sectors.begin(), l.sectors.end(), key) == l.sectors.end() &&
            std::find(l.regions.begin(), l.regions.end(), key) == l.regions.end())
          throw InputError(detail::concat(where, ": ", name, "[\"", key,
                                          "\"] is neither a sector nor a region (nor \"*\" for every other)"));
        if (!std::isfinite(rate) || !(rate > -1))
          throw InputError(detail::concat(where, ": ", name, "[\"", key, "\"] = ", rate,
                                          "; expected an annual rate > -1 (0.05 = 5 % a year)"));
      }
    out.emplace_back(static_cast<Index>(it - l.stressors.begin()), region);
  }
  return out;
}

Vector column_sums(const SparseMatrix& A) {
  Vector sums = Vector::Zero(A.cols());
  for (Index j = 0; j < A.outerSize(); ++j)
    for (SparseMatrix::InnerIterator it(A, j); it; ++it) sums[j] += it.value();
  return sums;
}

Reshaped reshape(const MrioSystem& base, const Edits& e) {
  const Labels& l = base.labels();
  const Index R = base.R(), N = base.N(), n = base.n(), k = base.k(), fd = base.Y().cols();
  const Index N1 = N + static_cast<Index>(e.split.size()), n1 = R * N1;
  Reshaped out;
  out.labels = l;
  for (const auto& sp : e.split) out.labels.sectors.push_back(sp.label);
  auto at = [&](Index p) { return reshaped_position(p, N, N1); };
  // Base row (r, chemical) of a split -> (its position, the new sector's position, share).
  std::map<Index, std::tuple<Index, Index, double>> split_rows;
  for (size_t q = 0; q < e.split.size(); ++q) {
    const auto& sp = e.split[q];
    split_rows[sp.region * N + sp.chemical] = {sp.region * N1 + sp.chemical, sp.region * N1 + N + static_cast<Index>(q),
                                               sp.share};
  }
  std::vector<Eigen::Triplet<double, Index>> t;
  t.reserve(static_cast<size_t>(base.A().nonZeros() + static_cast<Index>(e.A.size())) + 64);
  std::vector<char> sold(static_cast<size_t>(n1), 0);
  auto put = [&](Index row, Index col, double v) {  // row on base positions, col on new ones
    if (v == 0) return;
    auto it = split_rows.find(row);
    if (it == split_rows.end()) {
      t.emplace_back(at(row), col, v);
      sold[static_cast<size_t>(at(row))] = 1;
      return;
    }
    const auto [keep, to, share] = it->second;
    if (share < 1) {
      t.emplace_back(keep, col, (1 - share) * v);
      sold[static_cast<size_t>(keep)] = 1;
    }
    t.emplace_back(to, col, share * v);
    sold[static_cast<size_t>(to)] = 1;
  };
  for (Index j = 0; j < n; ++j) {
    // The edited column: base entries, overridden or completed by the overlay.
    auto lo = e.A.lower_bound({j, 0});
    for (SparseMatrix::InnerIterator it(base.A(), j); it; ++it)
      if (e.A.find({j, it.row()}) == e.A.end()) put(it.row(), at(j), it.value());
    for (auto it = lo; it != e.A.end() && it->first.first == j; ++it) put(it->first.second, at(j), it->second);
  }
  for (size_t q = 0; q < e.split.size(); ++q) {
    const auto& sp = e.split[q];
    for (const auto& [row, v] : sp.column) put(row, sp.region * N1 + N + static_cast<Index>(q), v);
  }
  out.A.resize(n1, n1);
  out.A.setFromTriplets(t.begin(), t.end());
  out.A.prune(0.0);
  out.A.makeCompressed();
  out.Y = Matrix::Zero(n1, fd);
  for (Index i = 0; i < n; ++i) {
    auto ey = e.Y.find(i);
    const RowVector y = ey != e.Y.end() ? ey->second : RowVector(base.Y().row(i));
    auto it = split_rows.find(i);
    if (it == split_rows.end()) {
      out.Y.row(at(i)) = y;
    } else {
      const auto [keep, to, share] = it->second;
      out.Y.row(keep) = (1 - share) * y;
      out.Y.row(to) = share * y;
    }
  }
  out.S = Matrix::Zero(k, n1);
  for (Index j = 0; j < n; ++j) {
    auto es = e.S.find(j);
    out.S.col(at(j)) = es != e.S.end() ? es->second : Vector(base.S().col(j));
  }
  for (size_t q = 0; q < e.split.size(); ++q)
    out.S.col(e.split[q].region * N1 + N + static_cast<Index>(q)) = e.split[q].intensity;
  if (base.has_value_added()) {
    out.va_coefficients = Vector::Zero(n1);
    for (Index j = 0; j < n; ++j) out.va_coefficients[at(j)] = base.x()[j] > 0 ? base.v()[j] / base.x()[j] : 0.0;
    for (const auto& [cell, delta] : e.dA) out.va_coefficients[at(cell.first)] -= delta;
    for (size_t q = 0; q < e.split.size(); ++q)
      out.va_coefficients[e.split[q].region * N1 + N + static_cast<Index>(q)] = e.split[q].va_coefficient;
  }
  // Nobody buys from these (x' = 0 exactly): the new sector outside its
  // region, the chemical sector when split_share = 1.
  for (Index i = 0; i < n1; ++i)
    if (!sold[static_cast<size_t>(i)] && out.Y.row(i).isZero(0)) out.zero_rows.push_back(i);
  return out;
}

Edits build_edits(const MrioSystem& base, const Scenario& scenario, const Vector* base_column_sums) {
  MRIOTRACE_CHECK(!scenario.name.empty(), "a scenario needs a name");
  // Pass 1: every operation's parameters and labels, before anything is applied.
  std::vector<Op> ops;
  ops.reserve(scenario.operations.size());
  for (size_t p = 0; p < scenario.operations.size(); ++p) {
    ops.emplace_back(base, scenario, p, scenario.operations[p]);
    // Later operations address the base's sectors and positions: they would
    // neither see nor edit the new sector (its sales, its column).
    if (scenario.operations[p].kind == "integrate" && ops.back().has("split") && p + 1 < scenario.operations.size())
      ops.back().fail("split", detail::concat("is given but operation ", p + 2, " (", scenario.operations[p + 1].kind,
                                              ") follows; a split must be the scenario's last operation "
                                              "(put the other operations before it)"));
  }
  resolve_targets(base, scenario);
  // Pass 2: apply in order on the overlay, checking each write.
  Edits e;
  const Vector own = base_column_sums ? Vector() : column_sums(base.A());
  Editor ed(base, e, base_column_sums ? *base_column_sums : own);
  for (size_t p = 0; p < ops.size(); ++p) {
    const Op& op = ops[p];
    const std::string& kind = scenario.operations[p].kind;
    ed.begin(&op, p, kind == "set");
    e.notes.push_back(op.note());
    if (kind == "relocate") relocate(op, ed, e, base);
    else if (kind == "couple_byproduct") couple_byproduct(op, ed, base);
    else if (kind == "integrate") integrate(op, ed, base, e);
    else if (kind == "green_power") green_power(op, ed, base, e);
    else if (kind == "electrify") electrify(op, ed, base);
    else edit(op, ed, base, kind == "set");
    ed.check_columns();
  }
  return e;
}

}  // namespace scenario_detail
}  // namespace mriotrace
