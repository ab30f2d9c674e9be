// Atomic file writes and the logging switch.
#include <gtest/gtest.h>

#include <filesystem>

#include "pplug/error.h"
#include "pplug/logging.h"
#include "util/file_io.h"

namespace pplug {
namespace {

TEST(FileIo, AtomicWriteReplacesContentAndLeavesNoTemporaries) {
  const auto dir = std::filesystem::temp_directory_path() / "pplug_util_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "f.txt").string();
  detail::write_file_atomic(path, "first");
  detail::write_file_atomic(path, "second");
  EXPECT_EQ(detail::read_file(path), "second");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_THROW(detail::read_file((dir / "missing").string()), FormatError);
  EXPECT_THROW(detail::write_file_atomic((dir / "no/such/dir/f").string(), "x"), Error);
}

TEST(Logging, LevelsParseAndApply) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("off"), LogLevel::kOff);
  EXPECT_THROW(parse_log_level("loud"), InvalidArgument);
  const LogLevel before = log_level();
  set_log_level(LogLevel::kError);
  EXPECT_EQ(log_level(), LogLevel::kError);
  set_log_level(before);
}

}  // namespace
}  // namespace pplug
