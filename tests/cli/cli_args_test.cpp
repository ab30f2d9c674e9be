// Argument checking of the `pplug` tool: every count that sizes memory or threads is bounded and
// every number must be finite, refused while parsing (before any file is read) with a message
// naming the flag and the value. Runs the built binary; needs no model (the model paths do not
// exist: a refused argument must be reported before they are looked at).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pplug/model_io.h"
#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;
using testing::quote;

CliRun run_cli(const std::string& args, const std::string& prefix = "") {
  static const std::string dir = testing::temp_dir("cli_args");
  static int counter = 0;
  return testing::run_pplug(args, dir + "/run" + std::to_string(counter++), "", prefix);
}

// `args` must be refused with a message that names `flag` and `value`.
void expect_refused(const std::string& args, const std::string& flag, const std::string& value) {
  const CliRun r = run_cli(args);
  EXPECT_NE(r.rc, 0) << args;
  EXPECT_NE(r.err.find(flag + ": must be"), std::string::npos) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(value), std::string::npos) << args << "\n" << r.err;
  // Refused while parsing: the (missing) model was never opened.
  EXPECT_EQ(r.err.find("/no/such"), std::string::npos) << args << "\n" << r.err;
}

const std::string kModel = "--model /no/such/model.bin ";
const std::string kEval =
    "eval " + kModel + "--task LaMP_2 --questions /no/such/q.json --preds-out /no/such/p.json ";
const std::string kTrain = "train " + kModel +
                           "--task LaMP_2 --train-questions /no/such/q.json "
                           "--train-outputs /no/such/o.json --out /no/such/run ";
const std::string kRetrieve = "retrieve --task LaMP_2 --questions /no/such/q.json ";
const std::string kPrompt = "prompt --task LaMP_2 --questions /no/such/q.json ";

TEST(CliArgs, ThreadsAreBounded) {
  expect_refused("generate " + kModel + "--prompt hi --threads 100000", "--threads", "100000");
  expect_refused("generate " + kModel + "--prompt hi --threads -2", "--threads", "-2");
  expect_refused("bench " + kModel + "--threads 5000", "--threads", "5000");
  expect_refused(kEval + "--threads 100000", "--threads", "100000");
  expect_refused(kTrain + "--threads 100000", "--threads", "100000");
}

TEST(CliArgs, GenerationCountsAndSamplingAreChecked) {
  const std::string gen = "generate " + kModel + "--prompt hi ";
  expect_refused(gen + "--beams 0", "--beams", "0");
  expect_refused(gen + "--beams 100000", "--beams", "100000");
  expect_refused(gen + "--max-new-tokens -5", "--max-new-tokens", "-5");
  expect_refused(gen + "--max-new-tokens 2000000000", "--max-new-tokens", "2000000000");
  expect_refused(gen + "--top-k -1", "--top-k", "-1");
  expect_refused(gen + "--top-p 0", "--top-p", "0");
  expect_refused(gen + "--top-p 1.5", "--top-p", "1.5");
  expect_refused(gen + "--temperature -1", "--temperature", "-1");
  expect_refused(gen + "--temperature nan", "--temperature", "nan");
  expect_refused(gen + "--temperature inf", "--temperature", "inf");
  expect_refused(kEval + "--beams 0", "--beams", "0");
  expect_refused(kEval + "--max-new-tokens -5", "--max-new-tokens", "-5");
  expect_refused(kEval + "--k -3", "--k", "-3");
  expect_refused(kEval + "--batch-size 0", "--batch-size", "0");
}

TEST(CliArgs, TrainingNumbersMustBeFiniteAndBounded) {
  expect_refused(kTrain + "--lr inf", "--lr", "inf");
  expect_refused(kTrain + "--lr nan", "--lr", "nan");
  expect_refused(kTrain + "--lr 0", "--lr", "0");
  expect_refused(kTrain + "--weight-decay -1", "--weight-decay", "-1");
  expect_refused(kTrain + "--epochs 0", "--epochs", "0");
  expect_refused(kTrain + "--batch-size 1000000", "--batch-size", "1000000");
  expect_refused(kTrain + "--grad-accum 0", "--grad-accum", "0");
  expect_refused(kTrain + "--top-k -1", "--top-k", "-1");
  expect_refused(kTrain + "--persona-tokens 0", "--persona-tokens", "0");
  expect_refused(kTrain + "--history-dropout-copies 100000000", "--history-dropout-copies",
                 "100000000");
}

TEST(CliArgs, RetrievalPromptBenchAndSynthCountsAreBounded) {
  expect_refused(kRetrieve + "--k -3", "--k", "-3");
  expect_refused(kRetrieve + "--k 99999999999", "--k", "99999999999");
  expect_refused(kPrompt + "--k -3", "--k", "-3");
  expect_refused(kPrompt + "--max-length 0", "--max-length", "0");
  expect_refused("bench " + kModel + "--repeats 0", "--repeats", "0");
  expect_refused("bench " + kModel + "--new-tokens 2000000000", "--new-tokens", "2000000000");
  expect_refused("synth --out /no/such/synth --users 2000000000", "--users", "2000000000");
  expect_refused("synth --out /no/such/synth --questions-per-user 0", "--questions-per-user", "0");
  expect_refused("synth --out /no/such/synth --trait-strength 2", "--trait-strength", "2");
  expect_refused("random-model --out /no/such/m.bin --layers 100000", "--layers", "100000");
  expect_refused("plugin-init " + kModel + "--task LaMP_2 --out /no/such/p --top-k -4", "--top-k",
                 "-4");
}

TEST(CliArgs, NonNumbersAreRefusedWithTheFlag) {
  expect_refused("generate " + kModel + "--prompt hi --beams two", "--beams", "two");
  expect_refused(kTrain + "--lr fast", "--lr", "fast");
}

// A synthetic benchmark whose users x questions x profile would not fit is refused by the
// library too (the CLI's per-flag bounds allow the factors one by one).
TEST(CliArgs, SynthTotalSizeIsBounded) {
  const CliRun r = run_cli(
      "synth --out /no/such/synth --users 1000000 --questions-per-user 100 --max-profile 100");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("profile items exceeds the limit"), std::string::npos) << r.err;
}

// libtorch's allocation failures are one clear line, not a C++ stack trace.
TEST(CliErrors, AllocationFailureIsOneLine) {
  const std::string dir = testing::temp_dir("cli_oom");
  // 1,000,000 x 4096 float32 embeddings (16 GB) under a 6 GB address-space limit.
  const CliRun r = run_cli(
      "random-model --dim 4096 --hidden 1024 --layers 1 --heads 32 "
      "--vocab 1000000 --out " +
          quote(dir + "/m.bin"),
      "ulimit -v 6000000; ");
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("pplug: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("out of memory"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.find("Exception raised from"), std::string::npos) << r.err;
}

TEST(CliErrors, ConvertSaysWhatIsWrongWithItsPaths) {
  const std::string dir = testing::temp_dir("cli_convert");
  save_llama2c(random_model(testing::tiny_config(), 5), dir + "/m.bin");
  fs::create_directories(dir + "/full");
  std::ofstream(dir + "/full/notes.txt") << "keep";
  const CliRun full =
      run_cli("convert --model " + quote(dir + "/m.bin") + " --out " + quote(dir + "/full"));
  EXPECT_EQ(full.rc, 1);
  EXPECT_NE(full.err.find("--out " + dir + "/full: the folder exists and is not empty"),
            std::string::npos)
      << full.err;
  EXPECT_TRUE(fs::exists(dir + "/full/notes.txt"));
  EXPECT_FALSE(fs::exists(dir + "/full/config.json"));
  const CliRun file =
      run_cli("convert --model " + quote(dir + "/m.bin") + " --out " + quote(dir + "/m.bin"));
  EXPECT_EQ(file.rc, 1);
  EXPECT_NE(file.err.find("exists and is a file"), std::string::npos) << file.err;
  const CliRun folder_model =
      run_cli("convert --model " + quote(dir + "/full") + " --out " + quote(dir + "/new"));
  EXPECT_EQ(folder_model.rc, 1);
  EXPECT_NE(folder_model.err.find("expected config.json or exactly one llama2.c checkpoint"),
            std::string::npos)
      << folder_model.err;
  fs::create_directories(dir + "/empty");
  const CliRun ok =
      run_cli("convert --model " + quote(dir + "/m.bin") + " --out " + quote(dir + "/empty"));
  EXPECT_EQ(ok.rc, 0) << ok.err;
  EXPECT_TRUE(fs::exists(dir + "/empty/config.json"));
}

}  // namespace
}  // namespace pplug
