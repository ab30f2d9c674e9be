#include "support/test_models.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "pplug/text_encoder.h"
#include "pplug/tokenizer.h"

namespace pplug::testing {

std::string shared_model_path(const std::string& relative) {
  const std::filesystem::path p = std::filesystem::path(PPLUG_SHARED_MODELS) / relative;
  return std::filesystem::exists(p) ? p.string() : std::string();
}

std::string temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("pplug_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string tiny_bert_dir(const std::string& tag, uint64_t seed) {
  const std::string vocab = shared_model_path("bert-base-uncased-vocab/vocab.txt");
  if (vocab.empty()) return "";
  BertShape tiny;
  tiny.hidden_size = 32;
  tiny.num_hidden_layers = 2;
  tiny.num_attention_heads = 2;
  tiny.intermediate_size = 64;
  tiny.max_position_embeddings = 128;
  const std::string dir = temp_dir(tag) + "/bert";
  write_random_bert(dir, tiny, vocab, seed);
  return dir;
}

LlamaConfig tiny_config(int64_t vocab) {
  LlamaConfig c;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.vocab_size = vocab;
  c.max_position_embeddings = 128;
  c.tie_word_embeddings = false;
  return c;
}

std::shared_ptr<const LlamaModel> tiny_model(uint64_t seed, int64_t vocab, torch::Dtype dtype) {
  const auto raw = random_model(tiny_config(vocab), seed);
  return std::make_shared<const LlamaModel>(raw.config, raw.weights, dtype, "tiny");
}

LoadedModel tiny_model_with_tok512(uint64_t seed) {
  LoadedModel llm;
  const std::string tok = shared_model_path("stories260K/tok512.model");
  if (tok.empty()) return llm;
  llm.model = tiny_model(seed);
  llm.tokenizer = std::make_shared<const Tokenizer>(tok);
  llm.weights_path = "tiny";
  return llm;
}

T5Config tiny_t5_config(bool flan) {
  T5Config c;
  c.d_model = 32;
  c.d_kv = 8;
  c.d_ff = 64;
  c.num_layers = 2;
  c.num_decoder_layers = 2;
  c.num_heads = 4;
  c.vocab_size = 64;
  c.relative_attention_num_buckets = 8;
  c.feed_forward_proj = flan ? "gated-gelu" : "relu";
  c.tie_word_embeddings = !flan;
  return c;
}

LabelledSplit two_taste_split(int users, int questions_per_user) {
  LabelledSplit split;
  const char* tags[] = {"comedy", "action"};
  const char* words[] = {"a funny clown and a silly cat", "a fast car and a big fight"};
  for (int u = 0; u < users; ++u) {
    const int taste = u % 2;
    for (int qn = 0; qn < questions_per_user; ++qn) {
      lamp::Question q;
      q.id = "u" + std::to_string(u) + "-q" + std::to_string(qn);
      q.input = "Which tag? description: a movie about a dog number " + std::to_string(qn);
      for (int i = 0; i < 4; ++i) {
        HistoryItem item;
        item.id = q.id + "-h" + std::to_string(i);
        item.set("description", std::string(words[taste]) + " in part " + std::to_string(i));
        item.set("tag", tags[taste]);
        q.profile.push_back(item);
      }
      split.golds.push_back({q.id, tags[taste]});
      split.questions.push_back(std::move(q));
    }
  }
  return split;
}

}  // namespace pplug::testing
