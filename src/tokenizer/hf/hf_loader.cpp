// tokenizer.json -> HfTokenizer::Impl.
#include <algorithm>

#include "pplug/error.h"
#include "tokenizer/hf/hf_tokenizer_impl.h"
#include "tokenizer/hf/json_util.h"

namespace pplug::hf {

std::unique_ptr<HfTokenizer::Impl> parse_tokenizer_json(const std::string& text,
                                                        const std::string& file);

namespace {

// Deepest nesting accepted inside the component sections (they recurse while parsing).
constexpr int kMaxComponentDepth = 32;

void check_depth(const JsonAt& j) {
  std::vector<std::pair<const Json*, int>> stack{{&j.value, 0}};
  while (!stack.empty()) {
    const auto [value, depth] = stack.back();
    stack.pop_back();
    if (depth > kMaxComponentDepth) j.fail("nested too deeply");
    if (value->is_structured()) {
      for (const auto& child : *value) stack.emplace_back(&child, depth + 1);
    }
  }
}

std::vector<AddedToken> parse_added_tokens(const JsonAt& j) {
  std::vector<AddedToken> tokens;
  if (j.value.is_null()) return tokens;
  j.require_array();
  for (std::size_t i = 0; i < j.value.size(); ++i) {
    const JsonAt t = j.at(i);
    t.require_object();
    AddedToken token;
    const long long id = t["id"].as_int();
    if (id < 0 || id >= (1LL << 24)) t["id"].fail("token id out of range [0, 16777215]");
    token.id = static_cast<int>(id);
    token.content = t["content"].as_string();
    token.special = t.bool_or("special", false);
    token.single_word = t.bool_or("single_word", false);
    token.lstrip = t.bool_or("lstrip", false);
    token.rstrip = t.bool_or("rstrip", false);
    token.normalized = t.bool_or("normalized", !token.special);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// The special-token ids a template item list puts before and after sequence "A".
void parse_template(const JsonAt& single, const JsonAt& specials, HfTokenizer::Impl& impl) {
  single.require_array();
  bool after = false;
  for (std::size_t i = 0; i < single.value.size(); ++i) {
    const JsonAt item = single.at(i);
    item.require_object();
    if (item.has("Sequence")) {
      after = true;
      continue;
    }
    const JsonAt special = item["SpecialToken"];
    special.require_object();
    const std::string name = special["id"].as_string();
    const JsonAt entry = specials[name.c_str()];
    if (entry.value.is_null()) special["id"].fail("not in post_processor.special_tokens");
    const JsonAt ids = entry["ids"];
    ids.require_array();
    for (std::size_t k = 0; k < ids.value.size(); ++k) {
      const int id = static_cast<int>(ids.at(k).as_int());
      (after ? impl.template_suffix : impl.template_prefix).push_back(id);
    }
  }
}

void parse_post_processor(const JsonAt& j, HfTokenizer::Impl& impl) {
  if (j.value.is_null()) return;
  const std::string type = j.type();
  if (type == "ByteLevel") return;
  if (type == "TemplateProcessing") {
    parse_template(j["single"], j["special_tokens"], impl);
    return;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    const auto pair_id = [&](const char* key) {
      const JsonAt p = j[key];
      p.require_array();
      if (p.value.size() != 2) p.fail("expected [token, id]");
      return static_cast<int>(p.at(1).as_int());
    };
    impl.template_prefix = {pair_id("cls")};
    impl.template_suffix = {pair_id("sep")};
    return;
  }
  if (type == "Sequence") {
    const JsonAt list = j["processors"];
    list.require_array();
    for (std::size_t i = 0; i < list.value.size(); ++i) parse_post_processor(list.at(i), impl);
    return;
  }
  j["type"].fail("unsupported post_processor type");
}

}  // namespace

std::unique_ptr<HfTokenizer::Impl> parse_tokenizer_json(const std::string& text,
                                                        const std::string& file) {
  return parse_tokenizer_json(parse_json(text, file), file);
}

std::unique_ptr<HfTokenizer::Impl> parse_tokenizer_json(const Json& json, const std::string& file) {
  const JsonAt root{json, file, ""};
  root.require_object();
  auto impl = std::make_unique<HfTokenizer::Impl>();
  impl->path = file;
  for (const char* section : {"normalizer", "pre_tokenizer", "post_processor", "decoder"}) {
    check_depth(root[section]);
  }
  if (!root.has("model")) root.fail("missing member \"model\"");
  impl->normalizer = parse_normalizer(root["normalizer"]);
  impl->pre_tokenizer = parse_pre_tokenizer(root["pre_tokenizer"]);
  impl->decoder = parse_decoder(root["decoder"]);
  parse_post_processor(root["post_processor"], *impl);
  const JsonAt model = root["model"];
  model.require_object();
  impl->model = parse_model(model);
  finish_vocabulary(*impl, parse_added_tokens(root["added_tokens"]), file + ": added_tokens");
  impl->unk = impl->model->unk_id();
  const int size = static_cast<int>(impl->pieces.size());
  for (int id : impl->template_prefix) {
    if (id < 0 || id >= size)
      root["post_processor"].fail("template id " + std::to_string(id) + " out of range");
  }
  for (int id : impl->template_suffix) {
    if (id < 0 || id >= size)
      root["post_processor"].fail("template id " + std::to_string(id) + " out of range");
  }
  impl->add_bos_default = !impl->template_prefix.empty();
  return impl;
}

void finish_vocabulary(HfTokenizer::Impl& impl, std::vector<AddedToken> added,
                       const std::string& where) {
  const Vocab& vocab = impl.model->vocab();
  int max_id = -1;
  for (const auto& [token, id] : vocab) max_id = std::max(max_id, id);
  std::unordered_map<int, std::size_t> added_by_id;
  for (std::size_t i = 0; i < added.size(); ++i) {
    AddedToken& token = added[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (token.content.empty()) throw FormatError(at + ".content: empty added token");
    // As HF: a token already in the model's vocabulary keeps the model's id.
    const auto in_vocab = vocab.find(token.content);
    if (in_vocab != vocab.end()) token.id = in_vocab->second;
    const auto [it, fresh] = added_by_id.emplace(token.id, i);
    if (!fresh && added[it->second].content != token.content) {
      throw FormatError(at + ".id: duplicate id " + std::to_string(token.id) + " (also used by \"" +
                        added[it->second].content + "\")");
    }
    max_id = std::max(max_id, token.id);
  }
  const std::size_t entries = vocab.size() + added.size();
  if (max_id >= 0 && static_cast<std::size_t>(max_id) > 2 * entries + 65536) {
    throw FormatError(where + ": token ids are too sparse (highest id " + std::to_string(max_id) +
                      " for " + std::to_string(entries) + " tokens)");
  }
  impl.pieces.assign(static_cast<std::size_t>(max_id + 1), std::string());
  impl.special.assign(static_cast<std::size_t>(max_id + 1), 0);
  impl.added.assign(static_cast<std::size_t>(max_id + 1), 0);
  for (const auto& [token, id] : vocab) impl.pieces[static_cast<std::size_t>(id)] = token;
  std::vector<AddedToken> raw;
  std::vector<AddedToken> normalized;
  std::vector<std::string> raw_patterns;
  std::vector<std::string> normalized_patterns;
  for (std::size_t i = 0; i < added.size(); ++i) {
    AddedToken& token = added[i];
    std::string& slot = impl.pieces[static_cast<std::size_t>(token.id)];
    if (!slot.empty() && slot != token.content) {
      throw FormatError(where + "[" + std::to_string(i) + "].id: duplicate id " +
                        std::to_string(token.id) + " (model.vocab has \"" + slot + "\")");
    }
    slot = token.content;
    impl.special[static_cast<std::size_t>(token.id)] = token.special ? 1 : 0;
    impl.added[static_cast<std::size_t>(token.id)] = 1;
    impl.added_ids.emplace(token.content, token.id);
    if (token.normalized) {
      std::string pattern = token.content;
      if (impl.normalizer) impl.normalizer->normalize(pattern);
      normalized_patterns.push_back(std::move(pattern));
      normalized.push_back(token);
    } else {
      raw_patterns.push_back(token.content);
      raw.push_back(token);
    }
  }
  impl.raw_added = AddedTokenMatcher(std::move(raw), std::move(raw_patterns));
  impl.normalized_added = AddedTokenMatcher(std::move(normalized), std::move(normalized_patterns));
}

}  // namespace pplug::hf
