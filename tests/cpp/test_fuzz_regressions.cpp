// Every input that showed a defect (found by the fuzzer, or while writing a
// target and reproduced through it; tests/data/fuzz-regressions/<target>/)
// is run through the same target function as in the fuzz binaries
// (tests/fuzz/harness.cpp) and must be refused with the error listed in that
// folder's expected.tsv ("<file>\t<part of the message>"). A target function
// that meets a silent change or an unclean error ends the process, so a
// regression fails this test binary loudly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../fuzz/harness.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/batch/job.hpp"
#include "mriotrace/io/scenario_toml.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kRegressions = fs::path(MRIOTRACE_SOURCE_DIR) / "tests" / "data" / "fuzz-regressions";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(FuzzRegressions, EveryFoundInputIsRefusedCleanly) {
  ASSERT_TRUE(fs::is_directory(kRegressions)) << kRegressions;
  int cases = 0;
  for (const auto& t : mriotrace::fuzz::targets()) {
    const fs::path dir = kRegressions / t.name;
    if (!fs::is_directory(dir)) continue;
    std::map<std::string, std::string> expected;
    std::istringstream lines(read_all(dir / "expected.tsv"));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto tab = line.find('\t');
      ASSERT_NE(tab, std::string::npos) << dir / "expected.tsv" << ": " << line;
      expected[line.substr(0, tab)] = line.substr(tab + 1);
    }
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string file = e.path().filename().string();
      if (file == "expected.tsv") continue;
      SCOPED_TRACE(t.name + std::string("/") + file);
      ASSERT_TRUE(expected.count(file)) << "no line for it in " << dir / "expected.tsv";
      const std::string bytes = read_all(e.path());
      const auto outcome = t.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      EXPECT_FALSE(outcome.accepted);
      EXPECT_NE(outcome.error.find(expected[file]), std::string::npos) << outcome.error;
      ++cases;
    }
  }
  EXPECT_GT(cases, 0);
}

// Inputs too large to keep as files, made here: TOML documents whose size the
// readers once paid for quadratically (a hang for a hostile file).

TEST(FuzzRegressions, LongJobListsAreCheckedForDuplicatesBySet) {
  // 200,000 stressors: the pairwise search took ~2e10 comparisons.
  std::string list;
  for (int i = 0; i < 200000; ++i) list += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  const std::string head = "output = \"o.h5\"\nstressors = [", tail = "]\n[[systems]]\nfile = \"a.h5\"\n";
  const auto job = mriotrace::batch::parse_job_text(head + list + tail, "job.toml", "");
  EXPECT_EQ(job.stressors.size(), 200000u);
  try {
    mriotrace::batch::parse_job_text(head + list + ",\"s123456\"" + tail, "job.toml", "");
    FAIL() << "a duplicate stressor was accepted";
  } catch (const mriotrace::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("stressor \"s123456\" is listed twice"), std::string::npos) << e.what();
  }
}

TEST(FuzzRegressions, SharedTargetsTimesScenariosIsBounded) {
  // 3,000 [[targets]] x 3,000 [[scenario]] (270 kB) asked for 9 million target copies.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "[[targets]]\nindicator = \"CO2/VA\"\nchange = -0.2\n";
  for (int i = 0; i < 3000; ++i) text += "[[scenario]]\nname = \"s" + std::to_string(i) + "\"\n";
  try {
    mriotrace::io::parse_scenarios(text, "many.toml");
    FAIL() << "accepted";
  } catch (const mriotrace::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("3000 [[targets]] checked in each of 3000 [[scenario]] tables; expected at most "
                                         "1000000"),
              std::string::npos)
        << e.what();
  }
}
