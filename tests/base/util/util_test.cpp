// Atomic file writes and the logging switch.
#include <gtest/gtest.h>

#include <filesystem>

#include "pplug/error.h"
#include "pplug/logging.h"
#include "util/checked_math.h"
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

// A writer given up before commit() (an error on the way) leaves the target as it was and
// nothing beside it, before and after it is destroyed; a stream of appends commits whole.
TEST(FileIo, AbandonedWriterLeavesTheTargetAndNoTemporaries) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / "pplug_util_test_abandon";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "f.bin").string();
  detail::write_file_atomic(path, "old");
  {
    detail::AtomicFileWriter writer(path);
    writer.append("half of the new");
    EXPECT_EQ(detail::read_file(path), "old");
  }
  EXPECT_EQ(detail::read_file(path), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  detail::AtomicFileWriter writer(path);
  writer.append("ab");
  writer.pad_to(8);
  writer.append("c");
  EXPECT_EQ(writer.size(), 9u);
  writer.commit();
  EXPECT_EQ(detail::read_file(path), std::string("ab\0\0\0\0\0\0c", 9));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  EXPECT_THROW(writer.commit(), Error);
  fs::remove_all(dir);
}

TEST(CheckedMath, ProductsAndSumsThatOverflowThrowNamingFileAndField) {
  EXPECT_EQ(detail::checked_mul(1 << 20, 1 << 20, "f.bin", "dim"), int64_t{1} << 40);
  EXPECT_EQ(detail::checked_product({2, 3, 4}, "f.bin", "dims"), 24);
  EXPECT_EQ(detail::checked_product(std::vector<int64_t>{}, "f.bin", "dims"), 1);
  EXPECT_EQ(detail::checked_add(INT64_MAX - 1, 1, "f.bin", "total"), INT64_MAX);
  try {
    detail::checked_product({int64_t{1} << 32, int64_t{1} << 31}, "f.bin", "w1 (L x d)");
    FAIL() << "no overflow reported";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("f.bin: w1 (L x d): 4294967296 x 2147483648 overflows"), std::string::npos)
        << what;
  }
  EXPECT_THROW(detail::checked_add(INT64_MAX, 1, "f.bin", "total"), FormatError);
  EXPECT_THROW(detail::checked_mul(-1, 2, "f.bin", "dim"), FormatError);
  EXPECT_THROW(detail::checked_int64(uint64_t{1} << 63, "f.bin", "count"), FormatError);
  EXPECT_EQ(detail::checked_int64(42, "f.bin", "count"), 42);
  int64_t out = 7;
  EXPECT_FALSE(detail::mul_fits(INT64_MAX, 2, &out));
  EXPECT_EQ(out, 7);
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
