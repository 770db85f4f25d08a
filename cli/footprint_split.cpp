// `mriotrace footprint-split FILE --by category|product -o out.csv`: the
// consumption-based account (D_cba) split by final-demand category, or by
// consuming region x product, the two splits pymrio users ask for.
//   by category  D[s, (r, f)] = (M Y)[s, (r, f)] + F_Y[s, (r, f)]
//   by product   D[s, (r, p)] = sum_q M[s, (q, p)] Y_r[(q, p)]  (F_Y not included)
// with M = S (I - A)^-1 from k transposed solves (no inverse).
#include "footprint_split.hpp"

#include <memory>
#include <string>

#include "mriotrace/accounts.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/csv.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/solver.hpp"
#include "util.hpp"

namespace mriotrace::cli {

FootprintSplitCommand add_footprint_split_command(CLI::App& app) {
  struct Options {
    std::string file, by, output;
    std::vector<std::string> stressors;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("footprint-split",
                                 "Consumption-based accounts by final-demand category or by consuming region x product");
  cmd->add_option("FILE", o->file, "HDF5 file holding a system")->required();
  cmd->add_option("--by", o->by, "category (region x Y category) or product (region x product)")
      ->required()
      ->check(CLI::IsMember({"category", "product"}));
  cmd->add_option("--stressor", o->stressors, "Stressor(s) (repeatable, or comma-separated); default: all")->take_all();
  cmd->add_option("--threads", o->threads, "Threads (0 = OMP_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--output", o->output, "Output CSV file")->required();
  return FootprintSplitCommand{[cmd, o] {
    if (!cmd->parsed()) return;
    const MrioSystem s = io::load_system(o->file);
    MRIOTRACE_CHECK(s.k() > 0 && s.Y().cols() > 0, o->file, " has no stressors or no final demand; expected both");
    std::vector<Index> rows = named_stressors(s, o->stressors);
    if (rows.empty())
      for (Index i = 0; i < s.k(); ++i) rows.push_back(i);
    const LeontiefSolver solver = make_solver(s, SolverOptions{SolverKind::Auto, o->threads});
    const Matrix M = calc_M(solver, s.S()(rows, Eigen::all));
    const Index R = s.R(), N = s.N(), c = s.c(), k = static_cast<Index>(rows.size());
    Matrix D;
    if (o->by == "category") {
      D = M * s.Y();
      if (s.has_F_Y()) D += s.F_Y()(rows, Eigen::all);
    } else {
      D = Matrix::Zero(k, R * N);
      for (Index r = 0; r < R; ++r) {
        const Vector yr = s.Y().middleCols(r * c, c).rowwise().sum();
        for (Index q = 0; q < R; ++q)
          D.middleCols(r * N, N) += M.middleCols(q * N, N) * yr.segment(q * N, N).asDiagonal();
      }
    }
    io::write_split_csv(o->output, s.labels(), rows, D, o->by == "category");
  }};
}

}  // namespace mriotrace::cli
