// Shared by the serve tests: a tiny random LLM with the real tok512 tokenizer, the LLM as
// history encoder, and a fresh plain-text plug-in (item template "{text}").
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "pplug/persona_plug.h"
#include "support/test_models.h"

namespace pplug::serve::testing {

struct TinyPlug {
  LoadedModel llm;
  std::shared_ptr<const PersonaPlug> plug;
};

// Empty `plug` when ../shared/models/stories260K is absent (callers skip).
inline TinyPlug make_tiny_plug(uint64_t seed = 0) {
  TinyPlug t;
  const std::string tok = pplug::testing::shared_model_path("stories260K/tok512.model");
  if (tok.empty()) return t;
  t.llm.model = pplug::testing::tiny_model(1);
  t.llm.tokenizer = std::make_shared<const Tokenizer>(tok);
  auto encoder = make_llm_encoder(t.llm.model, t.llm.tokenizer);
  PluginConfig config;  // task "" = plain text items
  t.plug = std::make_shared<PersonaPlug>(t.llm, encoder, config, seed);
  return t;
}

// `n` plain-text items whose texts depend on `salt` (different users, different histories).
inline std::vector<HistoryItem> text_history(int n, int salt = 0) {
  static const char* words[] = {"dog", "ball", "park", "cat", "tree", "boat", "cake"};
  std::vector<HistoryItem> items;
  for (int i = 0; i < n; ++i) {
    items.push_back(text_item("a story about a " + std::string(words[(i + salt) % 7]) + " and a " +
                                  std::string(words[(i * 3 + salt) % 7]),
                              "h" + std::to_string(i)));
  }
  return items;
}

}  // namespace pplug::serve::testing

#define PPLUG_SERVE_REQUIRE_PLUG(t) \
  if (!(t).plug) GTEST_SKIP() << "../shared/models/stories260K is absent"
