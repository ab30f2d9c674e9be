#include "tokenizer/hf/gguf_hf_vocab_writer.h"

#include <filesystem>
#include <set>
#include <vector>

#include "pplug/error.h"
#include "tokenizer/hf/gguf_vocab.h"
#include "tokenizer/hf/hf_tokenizer_impl.h"
#include "tokenizer/hf/json_util.h"
#include "util/file_io.h"

namespace pplug::detail {
namespace {

namespace fs = std::filesystem;
using hf::Json;
using hf::JsonAt;

// llama.cpp's token types (gguf-py TokenType).
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kUnused = 5;

// The tokenizer.ggml.pre values written, in order of preference among those with the same
// regexes, and whether llama.cpp cleans up spaces when it decodes with them (its clean_spaces,
// HF's clean_up_tokenization_spaces; src/llama-vocab.cpp).
struct PreName {
  const char* name;
  bool clean_spaces;
};
constexpr PreName kPreNames[] = {
    {"llama-bpe", true},     {"smaug-bpe", true},       {"dbrx", true},   {"qwen2", false},
    {"stablelm2", true},     {"gpt-2", true},           {"mpt", true},    {"olmo", true},
    {"smollm", false},       {"starcoder", true},       {"refact", true}, {"falcon", true},
    {"deepseek-llm", false}, {"deepseek-coder", false},
};

// HF writes the contractions case-insensitively; llama.cpp's regex engine spells the case out.
constexpr const char* kHfContractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
constexpr const char* kLlamaCppContractions =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

[[noreturn]] void refuse(const JsonAt& at, const std::string& what) {
  throw InvalidArgument(at.file + ": " + (at.path.empty() ? "" : at.path + ": ") + what);
}

bool mentions_type(const Json& j, const std::string& type) {
  if (j.is_object()) {
    const auto it = j.find("type");
    if (it != j.end() && it->is_string() && it->get<std::string>() == type) return true;
  }
  if (j.is_structured()) {
    for (const auto& child : j) {
      if (mentions_type(child, type)) return true;
    }
  }
  return false;
}

std::string type_of(const JsonAt& j) {
  return j.value.is_object() && j.has("type") && j["type"].value.is_string() ? j.type() : "";
}

// Refuses what llama.cpp's "gpt2" vocabularies cannot express.
void check_byte_level_bpe(const JsonAt& root) {
  const JsonAt model = root["model"];
  const std::string type = model.value.is_object() && model.has("type")
                               ? type_of(model)
                               : (model.value.is_object() && model.has("merges") ? "BPE" : "");
  if (type == "WordPiece") {
    refuse(model, "WordPiece (BERT) vocabularies cannot be written into a GGUF file yet");
  }
  if (type != "BPE") {
    refuse(model, "model type \"" + type +
                      "\": only byte-level BPE vocabularies (tokenizer.ggml.model \"gpt2\") are "
                      "written into GGUF files from a tokenizer.json");
  }
  if (model.bool_or("byte_fallback", false) ||
      mentions_type(root["pre_tokenizer"].value, "Metaspace") ||
      mentions_type(root["decoder"].value, "Metaspace")) {
    refuse(model,
           "SentencePiece-style BPE (byte_fallback / Metaspace, as TinyLlama's or Mistral's) "
           "cannot be written into a GGUF file from a tokenizer.json yet; give its "
           "tokenizer.model instead");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!model.string_or(key, "").empty()) {
      refuse(model[key], "llama.cpp's BPE has no " + std::string(key));
    }
  }
  const JsonAt decoder = root["decoder"];
  if (type_of(decoder) != "ByteLevel") {
    refuse(decoder,
           "decoder \"" + type_of(decoder) + "\" is not ByteLevel: not a byte-level BPE tokenizer");
  }
  const JsonAt normalizer = root["normalizer"];
  if (!normalizer.value.is_null() && type_of(normalizer) != "NFC") {
    refuse(normalizer, "normalizer \"" + type_of(normalizer) +
                           "\": llama.cpp applies none to \"gpt2\" vocabularies (NFC is left out: "
                           "it changes only text that is not in NFC)");
  }
}

// The regexes the pre-tokenizer splits with, in order, as llama.cpp spells them, and the
// tokenizer.json's own spelling of them (for messages).
struct SplitRegexes {
  std::vector<std::string> llama_cpp;
  std::vector<std::string> original;
};

SplitRegexes split_regexes(const JsonAt& pre, const std::string& gpt2_regex) {
  if (pre.value.is_null()) refuse(pre, "no pre_tokenizer: not a byte-level BPE tokenizer");
  std::vector<JsonAt> steps;
  if (type_of(pre) == "Sequence") {
    const JsonAt list = pre["pretokenizers"];
    list.require_array();
    for (std::size_t i = 0; i < list.value.size(); ++i) steps.push_back(list.at(i));
  } else {
    steps.push_back(pre);
  }
  if (steps.empty() || type_of(steps.back()) != "ByteLevel") {
    refuse(pre, "the last pre-tokenizer step is not ByteLevel: not a byte-level BPE tokenizer");
  }
  SplitRegexes out;
  const auto add = [&](std::string regex, std::string original) {
    for (std::size_t at = regex.find(kHfContractions); at != std::string::npos;
         at = regex.find(kHfContractions, at)) {
      regex.replace(at, std::string(kHfContractions).size(), kLlamaCppContractions);
    }
    out.llama_cpp.push_back(std::move(regex));
    out.original.push_back(std::move(original));
  };
  for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
    const JsonAt& step = steps[i];
    const std::string type = type_of(step);
    if (type == "Split") {
      const JsonAt pattern = step["pattern"];
      if (!pattern.value.is_object() || !pattern.has("Regex")) {
        refuse(pattern, "only Split steps with a Regex pattern have llama.cpp counterparts");
      }
      if (step.string_or("behavior", "Isolated") != "Isolated" || step.bool_or("invert", false)) {
        refuse(step,
               "only Split steps with behavior Isolated and invert false have llama.cpp "
               "counterparts");
      }
      const std::string regex = pattern["Regex"].as_string();
      add(regex, regex);
    } else if (type == "Digits") {
      const bool individual = step.bool_or("individual_digits", false);
      add(individual ? R"(\p{N})" : R"(\p{N}+)",
          individual ? "Digits(individual_digits)" : "Digits");
    } else {
      refuse(step, "pre-tokenizer step \"" + type +
                       "\" has no counterpart in llama.cpp's \"gpt2\" vocabularies");
    }
  }
  const JsonAt byte_level = steps.back();
  if (byte_level.bool_or("add_prefix_space", true)) {
    refuse(byte_level,
           "ByteLevel add_prefix_space is true: llama.cpp's \"gpt2\" vocabularies add no "
           "prefix space");
  }
  if (byte_level.bool_or("use_regex", true)) add(gpt2_regex, "ByteLevel(use_regex)");
  return out;
}

// The tokenizer.ggml.pre value whose regexes and ignore_merges are the tokenizer.json's.
std::string pre_name(const JsonAt& root, const Json& config) {
  hf::GgufPreTokenizer gpt2;
  hf::gguf_pre_tokenizer("gpt-2", &gpt2);
  const SplitRegexes regexes = split_regexes(root["pre_tokenizer"], gpt2.regexes.at(0));
  const bool ignore_merges = root["model"].bool_or("ignore_merges", false);
  const auto clean = config.find("clean_up_tokenization_spaces");
  const bool has_clean = clean != config.end() && clean->is_boolean();
  std::string first;
  std::string names;
  for (const PreName& p : kPreNames) {
    names += std::string(names.empty() ? "" : ", ") + p.name;
    hf::GgufPreTokenizer spec;
    if (!hf::gguf_pre_tokenizer(p.name, &spec) || spec.regexes != regexes.llama_cpp ||
        spec.ignore_merges != ignore_merges) {
      continue;
    }
    if (!has_clean || clean->get<bool>() == p.clean_spaces) return p.name;
    if (first.empty()) first = p.name;
  }
  if (!first.empty()) return first;
  std::string split;
  for (const std::string& r : regexes.original) {
    split += std::string(split.empty() ? "" : ", ") + Json(r).dump();
  }
  refuse(root["pre_tokenizer"],
         "no llama.cpp pre-tokenizer (tokenizer.ggml.pre) splits as this one does: splits [" +
             split + "], model.ignore_merges " + (ignore_merges ? "true" : "false") +
             " (known: " + names + ")");
}

// What llama.cpp's converter takes for a control token whatever its "special" flag says.
bool looks_special(const std::string& t) {
  const auto starts = [&](const std::string& s) { return t.compare(0, s.size(), s) == 0; };
  const auto ends = [&](const std::string& s) {
    return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" ||
         (starts("<|") && ends("|>")) ||
         (starts("<\xEF\xBD\x9C") && ends("\xEF\xBD\x9C>")) ||  // <｜ ... ｜>
         (starts("<unused") && ends(">"));
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

std::vector<std::string> merges_of(const JsonAt& model) {
  const JsonAt merges = model["merges"];
  std::vector<std::string> out;
  if (merges.value.is_null()) return out;
  merges.require_array();
  out.reserve(merges.value.size());
  for (const Json& m : merges.value) {
    if (m.is_string()) {
      out.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      // Pairs may hold spaces; llama.cpp's "left right" strings carry them as U+0120.
      out.push_back(replace_all(m[0].get<std::string>(), " ", "\xC4\xA0") + " " +
                    replace_all(m[1].get<std::string>(), " ", "\xC4\xA0"));
    } else {
      refuse(merges, "expected \"left right\" strings or [\"left\", \"right\"] pairs");
    }
  }
  return out;
}

void add_chat_templates(const Json& config, GgufWriter& out) {
  const auto it = config.find("chat_template");
  if (it == config.end()) return;
  if (it->is_string()) {
    out.add_string("tokenizer.chat_template", it->get<std::string>());
    return;
  }
  if (!it->is_array()) return;  // llama.cpp's converter ignores other values too
  // Named templates, as llama.cpp's GGUFWriter.add_chat_template writes them.
  std::vector<std::string> names;
  std::set<std::string> seen;
  const Json* fallback = nullptr;
  for (const Json& choice : *it) {
    if (!choice.is_object()) continue;
    const auto name_it = choice.find("name");
    const auto text = choice.find("template");
    if (name_it == choice.end() || !name_it->is_string() || text == choice.end() ||
        !text->is_string()) {
      continue;
    }
    std::string name = name_it->get<std::string>();
    for (char& c : name) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum) c = '_';
    }
    if (name.empty()) continue;
    if (name == "default") {
      fallback = &*text;
    } else if (seen.insert(name).second) {
      names.push_back(name);
      out.add_string("tokenizer.chat_template." + name, text->get<std::string>());
    }
  }
  if (!names.empty()) out.add_strings("tokenizer.chat_templates", names);
  if (fallback != nullptr) out.add_string("tokenizer.chat_template", fallback->get<std::string>());
}

}  // namespace

void add_hf_vocab(const std::string& tokenizer_json_path, GgufWriter& out, int64_t rows) {
  std::error_code ec;
  const std::string file = fs::is_directory(tokenizer_json_path, ec)
                               ? (fs::path(tokenizer_json_path) / "tokenizer.json").string()
                               : tokenizer_json_path;
  const std::string folder = fs::path(file).parent_path().string();
  const Json json = hf::parse_json(read_file(file), file);
  const JsonAt root{json, file, ""};
  root.require_object();
  if (!root.has("model")) root.fail("missing member \"model\"");
  check_byte_level_bpe(root);

  const std::string config_path = (fs::path(folder) / "tokenizer_config.json").string();
  Json config = Json::object();
  if (fs::is_regular_file(config_path, ec)) {
    config = hf::parse_json(read_file(config_path), config_path);
    if (!config.is_object()) JsonAt{config, config_path, ""}.fail("expected an object");
  }
  const std::string pre = pre_name(root, config);

  const auto impl = hf::parse_tokenizer_json(json, file);
  hf::resolve_special_ids(*impl, folder);
  const auto ids = static_cast<int64_t>(impl->pieces.size());
  if (rows > 0 && rows < ids) {
    throw MismatchError(file + ": " + std::to_string(ids) +
                        " token ids, but the model has vocab_size " + std::to_string(rows));
  }
  const int64_t count = rows > 0 ? rows : ids;
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<std::size_t>(count));
  types.reserve(static_cast<std::size_t>(count));
  for (int64_t id = 0; id < count; ++id) {
    const auto i = static_cast<std::size_t>(id);
    if (id >= ids || impl->pieces[i].empty()) {
      tokens.push_back("[PAD" + std::to_string(id) + "]");
      types.push_back(kUnused);
    } else if (!impl->added[i]) {
      tokens.push_back(impl->pieces[i]);
      types.push_back(kNormal);
    } else if (impl->special[i] || looks_special(impl->pieces[i])) {
      tokens.push_back(impl->pieces[i]);
      types.push_back(kControl);
    } else {
      tokens.push_back(replace_all(impl->pieces[i], "\xE2\x96\x81", " "));
      types.push_back(kUserDefined);
    }
  }

  out.add_string("tokenizer.ggml.model", "gpt2");
  out.add_string("tokenizer.ggml.pre", pre);
  out.add_strings("tokenizer.ggml.tokens", tokens);
  out.add_int32s("tokenizer.ggml.token_type", types);
  out.add_strings("tokenizer.ggml.merges", merges_of(root["model"]));
  const auto id = [&](const char* key, int value) {
    if (value >= 0) out.add_uint32(key, static_cast<uint32_t>(value));
  };
  id("tokenizer.ggml.bos_token_id", impl->bos);
  id("tokenizer.ggml.eos_token_id", impl->eos);
  id("tokenizer.ggml.unknown_token_id", impl->unk);
  id("tokenizer.ggml.padding_token_id", impl->pad);
  const auto add_bos = config.find("add_bos_token");
  if ((add_bos != config.end() && add_bos->is_boolean()) || !impl->template_prefix.empty()) {
    out.add_bool("tokenizer.ggml.add_bos_token", impl->add_bos_default);
  }
  const auto add_eos = config.find("add_eos_token");
  if (add_eos != config.end() && add_eos->is_boolean()) {
    out.add_bool("tokenizer.ggml.add_eos_token", add_eos->get<bool>());
  }
  add_chat_templates(config, out);
}

}  // namespace pplug::detail
