// Small helpers of the command-line program: progress lines, timing, text layout.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mriotrace/error.hpp"
#include "mriotrace/solver.hpp"
#include "mriotrace/system.hpp"
#include "mriotrace/text.hpp"
#include "mriotrace/types.hpp"

namespace mriotrace::cli {

/// A wrong command line that CLI11 cannot see (e.g. a missing --regions without
/// --china): reported like CLI11's parse errors, with exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Refuse an output path that is, or resolves to, one of the inputs (through
/// "..", symbolic or hard links): writing it would replace the input with a
/// results file. Reported as a wrong command line (exit code 2).
inline void refuse_overwriting_inputs(const std::string& output, const std::vector<std::string>& inputs,
                                      const std::string& option = "-o") {
  namespace fs = std::filesystem;
  if (output.empty()) return;
  for (const auto& input : inputs) {
    if (input.empty()) continue;
    std::error_code ec1, ec2, ec3;
    bool same = fs::exists(output, ec1) && fs::exists(input, ec2) && fs::equivalent(output, input, ec3);
    if (!same) {
      std::error_code ea, eb;
      const fs::path a = fs::weakly_canonical(output, ea), b = fs::weakly_canonical(input, eb);
      same = !ea && !eb && a == b;
    }
    if (same)
      throw UsageError(option + " " + output + " is the input file " + input +
                       "; writing there would replace the input with results. Choose another output file");
  }
}

/// The extension of a path, lower case (".h5", ".csv", ...).
inline std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext;
}

/// Wall-clock seconds since construction.
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_ = Clock::now();
};

/// One progress line on stderr (stdout stays clean for results).
inline void progress(const std::string& what) { std::cerr << "mriotrace: " << what << std::endl; }

/// printf into a string, 1,234,567 and clipped labels: the core's (text.hpp).
using ::mriotrace::clip;
using ::mriotrace::format;
using ::mriotrace::thousands;

/// Lines wrapped at 100 columns: the one implementation is the core's (text.hpp).
using ::mriotrace::wrap_lines;

/// "count: a, b, c, ..., y, z" wrapped at `width` columns with continuation
/// lines indented by `indent`; long lists show their first 6 and last 2 names,
/// long names are clipped to 40 characters.
inline std::string name_list(const std::vector<std::string>& names, size_t indent, size_t width = 100,
                             const std::vector<std::string>* units = nullptr) {
  std::vector<std::string> items;
  auto item = [&](size_t i) {
    std::string s = clip(names[i], 40);
    if (units && i < units->size() && !(*units)[i].empty()) s += " [" + (*units)[i] + "]";
    return s;
  };
  if (names.size() <= 10) {
    for (size_t i = 0; i < names.size(); ++i) items.push_back(item(i));
  } else {
    for (size_t i = 0; i < 6; ++i) items.push_back(item(i));
    items.push_back(format("... (%zu more) ...", names.size() - 8));
    for (size_t i = names.size() - 2; i < names.size(); ++i) items.push_back(item(i));
  }
  std::string out = std::to_string(names.size());
  if (!items.empty()) out += ": ";
  size_t col = indent + out.size();
  for (size_t i = 0; i < items.size(); ++i) {
    std::string piece = items[i] + (i + 1 < items.size() ? ", " : "");
    if (col + piece.size() > width && col > indent + 4) {
      if (!out.empty() && out.back() == ' ') out.pop_back();
      out += '\n';
      out.append(indent, ' ');
      col = indent;
    }
    out += piece;
    col += piece.size();
  }
  return out;
}

/// "dense LU (LAPACK)" / "sparse LU (UMFPACK)".
inline std::string solver_name(SolverKind kind) {
  switch (kind) {
    case SolverKind::DenseLU: return "dense LU (LAPACK)";
    case SolverKind::MixedLU: return "mixed-precision dense LU (LAPACK, refined)";
    case SolverKind::SparseLU: return "sparse LU (UMFPACK)";
    case SolverKind::KLU: return "sparse LU (KLU)";
    case SolverKind::GMRES: return "block-Jacobi GMRES";
    case SolverKind::PowerSeries: return "power series";
    default: return "auto";
  }
}

/// Two lines summarising a solver's diagnostics, each starting with `prefix`.
/// Says which backend produced the answers: when an iterative solve fell back
/// to a direct one, or auto handed many right-hand sides to LU, both are named.
inline std::string solver_summary(const SolveDiagnostics& d, const std::string& prefix) {
  std::string used = solver_name(d.kind);
  if (d.fell_back)
    used += format(", some solves fell back to %s (%s)",
                   d.last_kind == SolverKind::DenseLU || d.last_kind == SolverKind::SparseLU || d.last_kind == SolverKind::KLU ||
                           d.last_kind == SolverKind::MixedLU
                       ? solver_name(d.last_kind).c_str()
                       : "a direct LU",
                   d.fallback_reason.empty() ? "did not converge" : d.fallback_reason.c_str());
  else if (d.last_kind != SolverKind::Auto && d.last_kind != d.kind)
    used += format(", last solve by %s", solver_name(d.last_kind).c_str());
  return prefix + format("solver: %s, %d thread%s, factorisation %.3f s\n", used.c_str(), d.threads,
                         d.threads == 1 ? "" : "s", d.factor_seconds) +
         prefix + format("solves: %s right-hand sides in %.3f s, max relative residual %.1e",
                         thousands(d.rhs_solved).c_str(), d.solve_seconds, d.max_relative_residual);
}

/// Rows of the stressors given by --stressor (repeatable), in order. A value
/// is one name or several separated by commas ("CO2,CH4"); a value that is
/// itself a stressor's name is taken whole, since published satellite names
/// can hold commas. An unknown name is an InputError listing the known ones.
inline std::vector<Index> named_stressors(const MrioSystem& sys, const std::vector<std::string>& given) {
  const auto& names = sys.labels().stressors;
  std::vector<Index> rows;
  for (const std::string& value : given) {
    if (std::find(names.begin(), names.end(), value) != names.end()) {
      rows.push_back(sys.stressor_index(value));
      continue;
    }
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string piece = value.substr(start, comma - start);
      const auto first = piece.find_first_not_of(" \t"), last = piece.find_last_not_of(" \t");
      piece = first == std::string::npos ? std::string() : piece.substr(first, last - first + 1);
      if (piece.empty())
        throw InputError("--stressor \"" + value + "\" has an empty name; expected names separated by commas");
      rows.push_back(sys.stressor_index(piece));
      start = comma + 1;
    }
  }
  return rows;
}

}  // namespace mriotrace::cli
