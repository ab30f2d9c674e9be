// distributed_config_from_env and validate: torchrun's variables, and the errors that name them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "pplug/distributed.h"
#include "pplug/error.h"

namespace pplug {
namespace {

// Sets the launcher variables for one test and restores what the process had before.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& values) {
    for (const char* name : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"}) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(name);
    }
    for (const auto& [name, value] : values) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// The InvalidArgument message of distributed_config_from_env under `values` ("" if none).
std::string env_error(const std::map<std::string, std::string>& values) {
  ScopedEnv env(values);
  try {
    distributed_config_from_env();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(DistributedConfigEnv, UnsetMeansOneProcess) {
  ScopedEnv env({});
  const auto config = distributed_config_from_env();
  EXPECT_EQ(config.rank, 0);
  EXPECT_EQ(config.world_size, 1);
}

TEST(DistributedConfigEnv, ReadsTorchrunVariables) {
  ScopedEnv env({{"RANK", "2"},
                 {"WORLD_SIZE", "4"},
                 {"MASTER_ADDR", "10.0.0.7"},
                 {"MASTER_PORT", "29611"},
                 {"LOCAL_RANK", "whatever"}});  // ignored
  const auto config = distributed_config_from_env();
  EXPECT_EQ(config.rank, 2);
  EXPECT_EQ(config.world_size, 4);
  EXPECT_EQ(config.master_addr, "10.0.0.7");
  EXPECT_EQ(config.master_port, 29611);
  EXPECT_TRUE(config.file_store.empty());
}

TEST(DistributedConfigEnv, DefaultsForAddressAndPort) {
  ScopedEnv env({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
  const auto config = distributed_config_from_env();
  EXPECT_EQ(config.master_addr, "127.0.0.1");
  EXPECT_EQ(config.master_port, 29500);
}

TEST(DistributedConfigEnv, ErrorsNameTheVariableAndValue) {
  const std::map<std::map<std::string, std::string>, std::vector<std::string>> cases = {
      {{{"RANK", "abc"}, {"WORLD_SIZE", "2"}}, {"RANK='abc'", "not an integer"}},
      {{{"RANK", "1"}, {"WORLD_SIZE", "2x"}}, {"WORLD_SIZE='2x'", "not an integer"}},
      {{{"RANK", " 1"}, {"WORLD_SIZE", "2"}}, {"RANK=' 1'", "not an integer"}},
      {{{"RANK", "1.0"}, {"WORLD_SIZE", "2"}}, {"RANK='1.0'"}},
      {{{"RANK", ""}, {"WORLD_SIZE", "2"}}, {"RANK=''"}},
      {{{"RANK", "99999999999999999999"}, {"WORLD_SIZE", "2"}}, {"RANK='9999"}},
      {{{"RANK", "-1"}, {"WORLD_SIZE", "2"}}, {"RANK='-1'", "out of range"}},
      {{{"RANK", "2"}, {"WORLD_SIZE", "2"}}, {"RANK='2'", "less than WORLD_SIZE='2'"}},
      {{{"RANK", "0"}, {"WORLD_SIZE", "0"}}, {"WORLD_SIZE='0'", "out of range"}},
      {{{"RANK", "1"}}, {"RANK='1'", "WORLD_SIZE is not"}},
      {{{"WORLD_SIZE", "2"}}, {"WORLD_SIZE='2'", "RANK is not"}},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}},
       {"MASTER_PORT='70000'", "out of range [1, 65535]"}},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "0"}}, {"MASTER_PORT='0'"}},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "http"}}, {"MASTER_PORT='http'"}},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", ""}}, {"MASTER_ADDR", "empty"}},
  };
  for (const auto& [values, expected] : cases) {
    const std::string message = env_error(values);
    ASSERT_FALSE(message.empty()) << "accepted: " << ::testing::PrintToString(values);
    for (const auto& part : expected) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST(DistributedConfigValidate, RefusesWhatCannotWork) {
  const auto message = [](DistributedConfig config) -> std::string {
    try {
      validate(config);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "";
  };
  DistributedConfig ok;
  EXPECT_EQ(message(ok), "");
  DistributedConfig c = ok;
  c.world_size = 0;
  EXPECT_NE(message(c).find("world_size"), std::string::npos);
  c = ok;
  c.world_size = 2;
  c.rank = 2;
  EXPECT_NE(message(c).find("rank must be in [0, 1]"), std::string::npos);
  c = ok;
  c.timeout = std::chrono::milliseconds(0);
  EXPECT_NE(message(c).find("timeout"), std::string::npos);
  c = ok;
  c.world_size = 2;
  c.master_port = 0;
  EXPECT_NE(message(c).find("master_port"), std::string::npos);
  c.file_store = "/tmp/store";  // a FileStore needs no port
  EXPECT_EQ(message(c), "");
  c = ok;
  c.master_port = -5;  // a single process needs no network: the port is not looked at
  EXPECT_EQ(message(c), "");
}

}  // namespace
}  // namespace pplug
