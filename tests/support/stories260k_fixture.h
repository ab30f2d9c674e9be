// A test fixture over the real stories260K model (small and fast) with a Generator on it; the
// test is skipped, visibly, when ../shared/models is absent.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "pplug/generation.h"
#include "pplug/model_io.h"
#include "support/test_models.h"

namespace pplug::testing {

class Stories260KTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = shared_model_path("stories260K/stories260K.bin");
    if (path.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    loaded_ = load_model(path);
    generator_ = std::make_unique<Generator>(loaded_.model, loaded_.tokenizer);
  }
  LoadedModel loaded_;
  std::unique_ptr<Generator> generator_;
};

}  // namespace pplug::testing
