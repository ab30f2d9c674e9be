// Shared test fixtures: tiny in-process models and the location of the real ones.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "pplug/llama_model.h"
#include "pplug/model_io.h"
#include "pplug/t5_config.h"
#include "pplug/trainer.h"

namespace pplug::testing {

// Path under ../shared/models, or "" when that folder is absent.
std::string shared_model_path(const std::string& relative);
// A fresh temporary folder (removed at process exit is not guaranteed; it lives under /tmp).
std::string temp_dir(const std::string& tag);
// A tiny random Llama config: d 32, 2 layers, 4 heads, 2 kv heads, hidden 64, vocab 512.
LlamaConfig tiny_config(int64_t vocab = 512);
std::shared_ptr<const LlamaModel> tiny_model(uint64_t seed = 1, int64_t vocab = 512,
                                             torch::Dtype dtype = torch::kFloat32);
// tiny_model(seed) with the real stories260K tok512 tokenizer (its vocabulary fits), as the
// plug-in tests use it; a LoadedModel without model when ../shared/models is absent.
LoadedModel tiny_model_with_tok512(uint64_t seed = 1);
// A tiny T5 config: d 32, d_kv 8, d_ff 64, 2 + 2 layers, 4 heads, vocab 64, 8 buckets;
// FlanT5's layout (gated-gelu, untied head) when `flan`, else original T5's (relu, tied).
T5Config tiny_t5_config(bool flan);
// Writes a tiny random BERT folder (d 32, 2 layers, 2 heads, hidden 64, 128 positions) with the
// real bert-base-uncased vocabulary into a fresh temporary folder tagged `tag`; returns its path,
// or "" when ../shared/models/bert-base-uncased-vocab is absent.
std::string tiny_bert_dir(const std::string& tag, uint64_t seed = 1);

// A LaMP_2-style split of two kinds of users who see the same inputs: the tag is only in their
// histories (what a plug-in must learn and its no-persona ablation cannot).
LabelledSplit two_taste_split(int users, int questions_per_user);

}  // namespace pplug::testing

// Skips the current test (visibly) when a real model file under ../shared/models is missing.
#define PPLUG_REQUIRE_SHARED(var, relative)                              \
  const std::string var = ::pplug::testing::shared_model_path(relative); \
  if (var.empty()) GTEST_SKIP() << "../shared/models/" << relative << " is absent"
