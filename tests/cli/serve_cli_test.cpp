// `pplug serve` as a user starts it: what it refuses before listening (the HTTP API itself is
// tested in-process, tests/serve/).
#include <gtest/gtest.h>

#include <string>

#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

using testing::CliRun;
using testing::quote;

TEST(ServeCliTest, AStoreOfAnotherPluginAndBadFlagsAreRefused) {
  const std::string model = testing::shared_model_path("stories260K/stories260K.bin");
  if (model.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
  const std::string dir = testing::temp_dir("serve_cli");
  int counter = 0;
  const auto run = [&](const std::string& args) {
    return testing::run_pplug(args, dir + "/run" + std::to_string(counter++));
  };
  for (const char* seed : {"1", "2"}) {
    const CliRun init = run("plugin-init --model " + quote(model) + " --task LaMP_7 --seed " +
                            seed + " --out " + quote(dir + "/plug" + seed));
    ASSERT_EQ(init.rc, 0) << init.err;
  }
  // The store is opened before listening: a start on an address of no interface of this
  // machine creates the store for plug-in 1, then fails to listen.
  const std::string serve = "serve --model " + quote(model) + " --store " + quote(dir + "/store");
  const CliRun first = run(serve + " --plugin " + quote(dir + "/plug1") + " --host 10.255.255.1");
  EXPECT_EQ(first.rc, 1);
  EXPECT_NE(first.err.find("cannot listen on 10.255.255.1"), std::string::npos) << first.err;
  const CliRun other = run(serve + " --plugin " + quote(dir + "/plug2"));
  EXPECT_EQ(other.rc, 1);
  EXPECT_NE(other.err.find("was made for plug-in plugin-"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("use another --store"), std::string::npos) << other.err;
  const CliRun port = run(serve + " --plugin " + quote(dir + "/plug1") + " --port 70000");
  EXPECT_NE(port.rc, 0);
  EXPECT_NE(port.err.find("--port: must be in [0, 65535], got 70000"), std::string::npos)
      << port.err;
}

}  // namespace
}  // namespace pplug
