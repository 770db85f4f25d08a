// Batch runs: item ids, result records, job files, and the runner's promises:
// the same numbers for any thread count, shard split and merge; resume after
// an interruption (and a torn journal) bit for bit; refusal of changed or
// foreign jobs; failed items recorded without stopping the rest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "mriotrace/batch.hpp"
#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/batch/runner.hpp"
#include "mriotrace/batch/store.hpp"
#include "mriotrace/io/hdf5.hpp"
#include "mriotrace/scenario.hpp"

namespace mriotrace {
namespace {

namespace fs = std::filesystem;

TEST(BatchItems, IdsAndKeysRoundTrip) {
  ItemGrid g;
  g.systems = 2;
  g.scenarios = 3;
  g.draws = 4;
  g.sda = 2;
  EXPECT_EQ(g.total(), 2 * 3 * 5 + 2);
  for (Index id = 0; id < g.grid_items(); ++id) {
    const ItemKey k = item_key(g, id);
    EXPECT_EQ(item_id(g, k.system, k.scenario, k.draw), id);
    EXPECT_EQ(k.sda, -1);
  }
  EXPECT_EQ(item_key(g, 30).sda, 0);
  EXPECT_EQ(item_key(g, 31).sda, 1);
  EXPECT_EQ(item_key(g, 0).draw, -1);  // slot 0: unperturbed
  EXPECT_EQ(item_key(g, 1).draw, 0);
  EXPECT_THROW(item_key(g, 32), InputError);
  EXPECT_THROW(item_key(g, -1), InputError);
  EXPECT_THROW(item_id(g, 2, 0, 0), InputError);
  EXPECT_THROW(item_id(g, 0, 0, 4), InputError);
}

TEST(BatchItems, RecordsRoundTripAndDetectDamage) {
  ItemResult r;
  r.id = 17;
  r.status = ItemStatus::Failed;
  r.message = "draw did not converge";
  r.seconds = 0.25;
  r.iterations = 7;
  r.refactored = true;
  r.arrays.push_back({"D_cba_reg", Matrix::Random(2, 3)});
  r.arrays.push_back({"Q", Matrix::Random(2, 9)});
  const std::vector<char> rec = encode(r);
  size_t used = 0;
  const auto back = decode(rec.data(), rec.size(), used);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(used, rec.size());
  EXPECT_EQ(back->id, 17);
  EXPECT_EQ(back->status, ItemStatus::Failed);
  EXPECT_EQ(back->message, r.message);
  EXPECT_EQ(back->iterations, 7);
  EXPECT_TRUE(back->refactored);
  ASSERT_EQ(back->arrays.size(), 2u);
  EXPECT_TRUE(back->arrays[1].values == r.arrays[1].values);
  EXPECT_TRUE(*back->find("D_cba_reg") == r.arrays[0].values);
  // Torn (truncated) and corrupted records are rejected.
  for (size_t cut : {size_t(3), size_t(20), rec.size() - 1}) {
    EXPECT_FALSE(decode(rec.data(), cut, used).has_value()) << "cut at " << cut;
    EXPECT_EQ(used, 0u);
  }
  std::vector<char> bad = rec;
  bad[40] ^= 0x10;
  EXPECT_FALSE(decode(bad.data(), bad.size(), used).has_value());
  EXPECT_EQ(hex64(0), "0000000000000000");
  EXPECT_NE(fnv1a64("a", 1), fnv1a64("b", 1));
}

/// A temporary folder with two generated systems (years 2017 and 2018).
class BatchRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mriotrace-batch-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (int y : {2017, 2018}) {
      datasets::GeneratorOptions g;
      g.regions = 3;
      g.sectors = 5;
      g.seed = static_cast<std::uint64_t>(y);
      g.threads = 1;
      io::save((dir_ / ("y" + std::to_string(y) + ".h5")).string(), datasets::generate(g));
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  batch::BatchJob job(const std::string& extra = "", int draws = 6, const std::string& output = "out.h5",
                   double cv = 0.1) const {
    const std::string text = extra + "output = \"" + output + "\"\nseed = 3\nkeep = [\"D_cba_reg\", \"D_pba_reg\", \"Q\"]\n" +
                             "[[systems]]\nfile = \"y2017.h5\"\nyear = 2017\n" +
                             "[[systems]]\nfile = \"y2018.h5\"\nyear = 2018\n" +
                             "[montecarlo]\ndraws = " + std::to_string(draws) + "\ncv = " + std::to_string(cv) +
                             "\n[[sda]]\nfrom = \"2017\"\nto = \"2018\"\nsplit_demand = true\n" +
                             "[target]\nstressor = \"stressor0\"\nmax_value = 1e9\n";
    return batch::parse_job_text(text, "test.toml", dir_.string());
  }

  static batch::BatchRunOptions quiet(int threads = 1) {
    batch::BatchRunOptions o;
    o.threads = threads;
    o.quiet = true;
    return o;
  }

  /// Every item's status and arrays equal, bit for bit.
  static void expect_identical(const batch::BatchFileContents& a, const batch::BatchFileContents& b) {
    ASSERT_EQ(a.items.size(), b.items.size());
    EXPECT_EQ(a.job_hash, b.job_hash);
    for (size_t i = 0; i < a.items.size(); ++i) {
      const ItemResult &x = a.items[i], &y = b.items[i];
      ASSERT_EQ(x.id, y.id);
      EXPECT_EQ(x.status, y.status);
      ASSERT_EQ(x.arrays.size(), y.arrays.size()) << "item " << x.id;
      for (size_t j = 0; j < x.arrays.size(); ++j) {
        EXPECT_EQ(x.arrays[j].name, y.arrays[j].name);
        EXPECT_TRUE(x.arrays[j].values == y.arrays[j].values) << "item " << x.id << " " << x.arrays[j].name;
      }
    }
  }

  fs::path dir_;
};

TEST_F(BatchRun, ThreadsShardsAndMergeGiveIdenticalResults) {
  const batch::BatchJob j = job();
  const auto s1 = batch::run_batch(j, quiet(1));
  EXPECT_TRUE(s1.complete);
  EXPECT_EQ(s1.total, 2 * 7 + 1);
  EXPECT_EQ(s1.failed, 0);
  EXPECT_FALSE(fs::exists(path("out.h5.journal")));  // removed once complete
  auto o2 = quiet(2);
  o2.output = path("two.h5");
  batch::run_batch(j, o2);
  std::vector<std::string> shards;
  for (int i = 0; i < 3; ++i) {
    auto o = quiet(1);
    o.shard_index = i;
    o.shard_count = 3;
    const auto s = batch::run_batch(j, o);
    EXPECT_EQ(s.output, path("out.shard-" + std::to_string(i) + "-of-3.h5"));
    shards.push_back(s.output);
  }
  EXPECT_THROW(batch::merge_batch({shards[0], shards[1]}, path("partial.h5")), InputError);  // shard 2 missing
  EXPECT_THROW(batch::merge_batch({shards[0], shards[0], shards[1], shards[2]}, path("dup.h5")), InputError);
  batch::merge_batch(shards, path("merged.h5"));
  const auto a = batch::read_batch_file(path("out.h5"));
  EXPECT_TRUE(a.complete);
  EXPECT_EQ(a.regions.size(), 3u);
  EXPECT_EQ(a.items.size(), 15u);
  expect_identical(a, batch::read_batch_file(path("two.h5")));
  const auto m = batch::read_batch_file(path("merged.h5"));
  EXPECT_TRUE(m.complete);
  expect_identical(a, m);
  // Draws differ from the unperturbed run and from each other; the SDA item has its effects.
  const Matrix& det = *a.items[0].find("D_cba_reg");
  EXPECT_FALSE(det == *a.items[1].find("D_cba_reg"));
  EXPECT_FALSE(*a.items[1].find("D_cba_reg") == *a.items[2].find("D_cba_reg"));
  EXPECT_NE(a.items[14].find("effect:y_level"), nullptr);
  // The unperturbed item equals the engine's own accounts.
  const MrioSystem sys = io::load_system(path("y2017.h5"));
  const Accounts ref = calc_accounts(sys, LeontiefSolver(sys.A()));
  EXPECT_LT((det - ref.D_cba_reg).cwiseAbs().maxCoeff(), 1e-10 * ref.D_cba_reg.cwiseAbs().maxCoeff());
  // Re-running a complete job does nothing and changes nothing.
  const auto again = batch::run_batch(j, quiet(1));
  EXPECT_EQ(again.computed, 0);
  EXPECT_EQ(again.resumed, 15);
  expect_identical(a, batch::read_batch_file(path("out.h5")));
}

TEST_F(BatchRun, ZeroCvDrawsEqualTheBase) {
  const batch::BatchJob j = job("", 4, "zero.h5", 0.0);
  batch::run_batch(j, quiet(2));
  const auto c = batch::read_batch_file(path("zero.h5"));
  for (const auto& r : c.items) {
    const ItemKey k = item_key(j.grid(), r.id);
    if (k.sda >= 0) continue;
    const ItemResult& base = c.items[static_cast<size_t>(item_id(j.grid(), k.system, 0, -1))];
    for (const char* name : {"D_cba_reg", "D_pba_reg", "Q"})
      EXPECT_TRUE(*r.find(name) == *base.find(name)) << "item " << r.id << " " << name;
  }
}

TEST_F(BatchRun, InterruptedRunResumesBitForBit) {
  const batch::BatchJob j = job();
  auto full = quiet(1);
  full.output = path("full.h5");
  batch::run_batch(j, full);

  // Stop after 5 items (as a kill would, but through the progress hook).
  auto o = quiet(2);
  o.snapshot_seconds = 0;  // the results file follows every item
  o.on_progress = [](const batch::BatchProgress& p) {
    if (p.done >= 5) throw std::runtime_error("simulated kill");
  };
  EXPECT_THROW(batch::run_batch(j, o), std::runtime_error);
  ASSERT_TRUE(fs::exists(path("out.h5.journal")));
  const auto partial = batch::read_batch_file(path("out.h5"));  // the partial file opens
  EXPECT_FALSE(partial.complete);
  // The file is rewritten after each item's progress call; the hook throws at
  // the first call that sees 5 done, and with 2 threads the other one may have
  // committed in between: the last snapshot lists at least 3 (the journal, all).
  EXPECT_GE(partial.items.size(), 3u);
  EXPECT_LT(partial.items.size(), 15u);
  for (const auto& r : partial.items) EXPECT_EQ(r.status, ItemStatus::Ok);
  // A torn record at the end of the journal (a kill during a write) is cut off.
  {
    std::ofstream tail(path("out.h5.journal"), std::ios::binary | std::ios::app);
    tail << "MTIR\x40\x00\x00\x00garbage";
  }
  const auto resumed = batch::run_batch(j, quiet(1));
  EXPECT_TRUE(resumed.complete);
  EXPECT_GE(resumed.resumed, 5);
  EXPECT_EQ(resumed.resumed + resumed.computed, 15);
  expect_identical(batch::read_batch_file(path("full.h5")), batch::read_batch_file(path("out.h5")));
}

TEST_F(BatchRun, ChangedOrForeignJobsAreRefused) {
  const batch::BatchJob j = job();
  auto o = quiet(1);
  o.on_progress = [](const batch::BatchProgress& p) {
    if (p.done >= 3) throw std::runtime_error("stop");
  };
  EXPECT_THROW(batch::run_batch(j, o), std::runtime_error);
  // The job file changed (another seed): resuming would mix two jobs.
  const batch::BatchJob changed = job("", 7);
  try {
    batch::run_batch(changed, quiet(1));
    FAIL() << "a changed job was resumed";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("another job"), std::string::npos) << e.what();
  }
  // --restart discards the old run.
  auto restart = quiet(1);
  restart.restart = true;
  EXPECT_TRUE(batch::run_batch(changed, restart).complete);
  // A complete results file of another job is refused too, and left intact.
  EXPECT_THROW(batch::run_batch(j, quiet(1)), FileError);
  EXPECT_EQ(batch::read_batch_file(path("out.h5")).job_hash, changed.hash);
  // Shard outputs of different jobs cannot be merged.
  auto s0 = quiet(1);
  s0.shard_count = 2;
  batch::run_batch(j, s0);
  auto s1 = quiet(1);
  s1.shard_index = 1;
  s1.shard_count = 2;
  batch::run_batch(changed, s1);
  EXPECT_THROW(batch::merge_batch({path("out.shard-0-of-2.h5"), path("out.shard-1-of-2.h5")}, path("m.h5")), FileError);
  // A shard's checkpoint cannot be resumed as another shard.
  EXPECT_THROW(batch::BatchStore(j, path("out.shard-0-of-2.h5"), 1, 2, false, Labels{}), FileError);
}

TEST_F(BatchRun, FailedItemsAreRecordedAndTheRestFinishes) {
  // A system whose region R1 has no final demand: accounts work, but the SDA
  // with split demand (level = 0) fails for that item only.
  const MrioSystem s = io::load_system(path("y2018.h5"));
  Matrix Y = s.Y();
  Y.middleCols(1 * s.c(), s.c()).setZero();
  io::save(path("y2018.h5"), MrioSystem::from_A_x(s.labels(), s.A(), s.x(), Y, s.S(), s.F_Y(), s.v()));
  const auto summary = batch::run_batch(job(), quiet(2));
  EXPECT_TRUE(summary.complete);
  EXPECT_EQ(summary.failed, 1);
  ASSERT_EQ(summary.failures.size(), 1u);
  EXPECT_NE(summary.failures[0].find("SDA 2017->2018"), std::string::npos) << summary.failures[0];
  EXPECT_NE(summary.failures[0].find("total final demand of region R1"), std::string::npos) << summary.failures[0];
  const auto c = batch::read_batch_file(path("out.h5"));
  EXPECT_EQ(c.items.size(), 15u);
  EXPECT_EQ(c.items.back().status, ItemStatus::Failed);
  EXPECT_EQ(c.items.front().status, ItemStatus::Ok);
}

TEST_F(BatchRun, BadJobFilesAreRejectedWithClearMessages) {
  auto bad = [&](const std::string& text, const std::string& expected) {
    try {
      batch::parse_job_text(text, "bad.toml", dir_.string());
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  const std::string sys = "[[systems]]\nfile = \"y2017.h5\"\nyear = 2017\n";
  bad("output = \"o.h5\"\n[[systems]\n", "not valid TOML: line 2");
  bad("output = \"o.h5\"\n" + sys + "colour = 1\n", "unknown key \"colour\"");
  bad("output = \"o.h5\"\n", "no [[systems]]");
  bad(sys, "missing key \"output\"");
  bad("output = \"o.h5\"\nkeep = [\"D_xyz\"]\n" + sys, "unknown account \"D_xyz\"");
  bad("output = \"o.h5\"\n" + sys + "[montecarlo]\ndraws = -1\ncv = 0.1\n", "expected >= 0");
  bad("output = \"o.h5\"\n" + sys + "[montecarlo]\ndraws = 10\n", "no CV is given");
  bad("output = \"o.h5\"\n" + sys + "[montecarlo]\ndraws = 10\ncv = -0.1\n", "expected a CV");
  bad("output = \"o.h5\"\n" + sys + "[montecarlo]\ndraws = 1\ncv = 0.1\nperturb = \"B\"\n", "expected \"A\" or \"Z\"");
  bad("output = \"o.h5\"\n" + sys + "[[sda]]\nfrom = \"2017\"\nto = \"2020\"\n", "\"2020\" is not a system");
  bad("output = \"o.h5\"\n" + sys + "[[sda]]\nfrom = \"2017\"\nto = \"2017\"\nmethod = \"shapley\"\n", "unknown SDA method");
  bad("output = \"o.h5\"\n" + sys + "[target]\nstressor = \"x\"\nmax_change = -0.1\nmax_value = 3\n", "exactly one");
  bad("output = \"o.h5\"\nscenarios = [\"base\", \"green\"]\n" + sys, "expected a scenario file name");
  bad("output = \"o.h5\"\n" + sys + sys, "used twice");
  EXPECT_THROW(batch::parse_job(path("missing.toml")), FileError);
  EXPECT_THROW(batch::parse_job_text("output = \"o.h5\"\nscenarios = \"nope.toml\"\n" + sys, "j.toml", dir_.string()),
               FileError);
  // A job whose system file is missing fails before any work, naming the file.
  const batch::BatchJob j = batch::parse_job_text("output = \"o.h5\"\n[[systems]]\nfile = \"nope.h5\"\n", "j.toml",
                                            dir_.string());
  try {
    batch::run_batch(j, quiet(1));
    FAIL() << "missing system file accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.h5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(batch::read_batch_file(path("y2017.h5")), FileError);  // a system file, not a batch file
  auto o = quiet(1);
  o.shard_index = 2;
  o.shard_count = 2;
  EXPECT_THROW(batch::run_batch(job(), o), InputError);
}

}  // namespace
}  // namespace mriotrace

namespace mriotrace {
namespace {

class BatchScenarios : public BatchRun {};

TEST_F(BatchScenarios, ScenarioItemsShareDrawsAndMatchTheEditedSystem) {
  {
    std::ofstream sc(path("scen.toml"));
    sc << "[[scenario]]\nname = \"efficient\"\n[[scenario.operation]]\nkind = \"scale\"\nmatrix = \"A\"\n"
          "factor = 0.9\ncol_regions = [\"R1\"]\n"
          "[[scenario]]\nname = \"clean\"\n[[scenario.operation]]\nkind = \"scale\"\nmatrix = \"S\"\n"
          "factor = 0.8\ncol_regions = [\"R0\"]\n";
  }
  const batch::BatchJob j = job("scenarios = \"scen.toml\"\n", 5);
  ASSERT_EQ(j.scenarios, (std::vector<std::string>{"base", "efficient", "clean"}));
  EXPECT_EQ(j.grid().total(), 2 * 3 * 6 + 1);
  batch::run_batch(j, quiet(2));
  const auto c = batch::read_batch_file(path("out.h5"));
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.scenarios, j.scenarios);
  auto item = [&](Index s, Index sc, Index d) -> const ItemResult& {
    return c.items[static_cast<size_t>(item_id(j.grid(), s, sc, d))];
  };
  // The unperturbed scenario item is the accounts of the edited system.
  const MrioSystem base = io::load_system(path("y2017.h5"));
  for (Index sc = 1; sc <= 2; ++sc) {
    const MrioSystem edited = apply_scenario(base, j.scenario_defs[static_cast<size_t>(sc - 1)], 1);
    const Accounts ref = calc_accounts(edited, LeontiefSolver(edited.A()));
    const Matrix& got = *item(0, sc, -1).find("D_cba_reg");
    EXPECT_LT((got - ref.D_cba_reg).cwiseAbs().maxCoeff(), 1e-9 * ref.D_cba_reg.cwiseAbs().maxCoeff()) << sc;
  }
  // Same draws for base and scenario: cleaner R0 production lowers R0's
  // production-based account in every draw, by 20 % of its industrial part.
  for (Index d = 0; d < 5; ++d) {
    const Matrix& b = *item(0, 0, d).find("D_pba_reg");
    const Matrix& s = *item(0, 2, d).find("D_pba_reg");
    EXPECT_LT(s(0, 0), b(0, 0)) << "draw " << d;
    EXPECT_EQ(s(0, 1), b(0, 1)) << "draw " << d;  // other regions' production untouched, bit for bit
  }
  // A changed scenario file is a changed job.
  {
    std::ofstream sc(path("scen.toml"), std::ios::app);
    sc << "\n# edited\n";
  }
  const batch::BatchJob changed = batch::parse_job_text(j.text, "test.toml", dir_.string());
  EXPECT_NE(changed.hash, j.hash);
  // Merging needs no scenario file: the results file carries its text.
  fs::remove(path("scen.toml"));
  batch::merge_batch({path("out.h5")}, path("copy.h5"));
  expect_identical(c, batch::read_batch_file(path("copy.h5")));
}

TEST_F(BatchScenarios, ScenarioThatSplitsASectorOffIsRefusedUpFront) {
  // Items perturb entries by position and solve with the base's factorisation;
  // a split changes the shape, so the job is refused when it is read.
  {
    std::ofstream sc(path("split.toml"));
    sc << "[[scenario]]\nname = \"clean\"\n[[scenario.operation]]\nkind = \"scale\"\nmatrix = \"S\"\nfactor = 0.8\n"
          "[[scenario]]\nname = \"complex\"\n[[scenario.operation]]\nkind = \"integrate\"\nregion = \"R0\"\n"
          "chemical = \"S2\"\nrefining = \"S1\"\nfeedstock_shift = 0.5\nefficiency = 0.1\nutilities = [\"S0\"]\n"
          "split = \"Complex\"\n";
  }
  try {
    job("scenarios = \"split.toml\"\n", 2);
    FAIL() << "a splitting scenario was accepted in a batch job";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const char* part : {"job file \"test.toml\"", "scenario \"complex\"", "splits a sector off", "\"Complex\"",
                             "mriotrace scenario run"})
      EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace mriotrace
