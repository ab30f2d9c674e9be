// Persona-Plug costs, printed as JSON lines:
//  (a) a personalized query with a cached UserEmbedding vs the same query without the plug-in:
//      same model, same prompt, same total length (the plain prompt is padded with one token per
//      soft token), same number of generated tokens. Target: ratio <= 1.10.
//  (b) embed_user throughput (history items/s, one batched call) for the LLM encoder on
//      stories260K and for a BERT-base-shaped encoder with random weights.
//
//   plugin_bench [--models DIR] [--threads N] [--repeats R] [--new-tokens N] [--skip-bert]
// (--new-tokens 0, the default, runs (a) with 32 and with 128 new tokens).
// DIR defaults to ../shared/models (the folder holding stories260K/ and bert-base-uncased-vocab/).
#include <ATen/Parallel.h>
#include <pplug/model_io.h>
#include <pplug/persona_plug.h>
#include <pplug/sentence_encoder.h>
#include <pplug/text_encoder.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Runs each function `repeats` times, interleaved (so that load changes hit both alike), after
// one warm-up call each; returns the best (minimum) seconds of each: the machine is shared, and
// the minimum is the run least disturbed by other processes.
std::vector<double> time_interleaved(const std::vector<std::function<void()>>& fns, int repeats) {
  std::vector<std::vector<double>> times(fns.size());
  for (const auto& f : fns) f();
  for (int r = 0; r < repeats; ++r) {
    for (size_t i = 0; i < fns.size(); ++i) {
      const auto t = Clock::now();
      fns[i]();
      times[i].push_back(std::chrono::duration<double>(Clock::now() - t).count());
    }
  }
  std::vector<double> out;
  for (auto& t : times) out.push_back(best(t));
  return out;
}

// A history of `n` short items (~30 words each), different per item.
std::vector<pplug::HistoryItem> make_history(int n) {
  static const char* words[] = {"the", "little", "dog",  "ran",  "to",     "park",  "and",  "saw",
                                "a",   "big",    "red",  "ball", "sun",    "was",   "warm", "happy",
                                "cat", "played", "with", "her",  "friend", "under", "tree", "sky"};
  std::vector<pplug::HistoryItem> items;
  for (int i = 0; i < n; ++i) {
    std::string text;
    for (int w = 0; w < 30; ++w) {
      if (w > 0) text += ' ';
      text += words[(i * 7 + w * 5 + w * w) % 24];
    }
    items.push_back(pplug::text_item(text + ".", "h" + std::to_string(i)));
  }
  return items;
}

const std::string kInput =
    "Paraphrase the following tweet without any explanation before or after it: The little dog "
    "ran to the park and saw a big red ball under the tree.";

// (a) personalized vs plain generation on `llm`. With QuerySource::kEncoder (the reference) the
// input is encoded in a pass of its own; with kPrompt the LLM's reading of the prompt is the
// query, so the personalized query runs no extra pass.
void bench_query(const std::string& name, const pplug::LoadedModel& llm, int new_tokens,
                 int repeats, pplug::QuerySource source) {
  pplug::PluginConfig config;
  config.task = "LaMP_7";
  config.query_source = source;
  if (source == pplug::QuerySource::kPrompt) {
    config.placement = pplug::SoftTokenPlacement::kBeforeAnswer;
  }
  auto encoder =
      pplug::load_sentence_encoder(source == pplug::QuerySource::kPrompt ? "llm:last" : "", llm);
  pplug::PersonaPlug plug(llm, encoder, config, /*seed=*/1);
  const pplug::UserEmbedding user = plug.embed_user(make_history(32));  // cached, not timed
  const int n_soft = static_cast<int>(plug.soft_tokens(user, kInput).size(0));

  // The plain query: [BOS] + n_soft copies of a real token + the same prompt tokens.
  std::vector<int> plain = {llm.tokenizer->bos_id()};
  const std::vector<int> prompt = plug.prompt_ids(kInput);
  plain.insert(plain.end(), n_soft, prompt.front());
  plain.insert(plain.end(), prompt.begin(), prompt.end());
  pplug::Generator generator(llm.model, llm.tokenizer);

  pplug::GenerationOptions options;
  options.max_new_tokens = new_tokens;
  options.stop_at_eos = false;  // both generate exactly new_tokens
  size_t personal_tokens = 0, plain_tokens = 0;
  // Breakdown: the soft tokens alone (input encoding + aggregation), and generation from the
  // embedded prefix with precomputed soft tokens.
  const std::vector<pplug::EmbeddedPrompt> embedded =
      plug.embedded_prompts({pplug::UserRequest{&user, kInput}});
  const auto t = time_interleaved(
      {[&] { personal_tokens = plug.generate(user, kInput, options).generated_ids.size(); },
       [&] { plain_tokens = generator.generate_ids({plain}, options)[0].generated_ids.size(); },
       [&] { plug.soft_tokens(user, kInput); },
       [&] { generator.generate_embedded(embedded, options); },
       [&] { encoder->encode({plug.query_text(kInput)}, /*as_query=*/true); }},
      repeats);
  std::printf(
      "{\"bench\": \"personalized_query\", \"model\": \"%s\", \"query_source\": \"%s\", "
      "\"threads\": %d, \"history_items\": "
      "%d, \"soft_tokens\": %d, \"prompt_tokens\": %zu, \"new_tokens\": %d, \"generated\": [%zu, "
      "%zu], \"personalized_ms\": %.3f, \"plain_ms\": %.3f, \"ratio\": %.3f, \"soft_tokens_ms\": "
      "%.3f, \"input_encoding_ms\": %.3f, \"embedded_generate_ms\": %.3f}\n",
      name.c_str(), pplug::to_string(source), at::get_num_threads(), 32, n_soft, plain.size(),
      new_tokens, personal_tokens, plain_tokens, t[0] * 1e3, t[1] * 1e3, t[0] / t[1], t[2] * 1e3,
      t[4] * 1e3, t[3] * 1e3);
  std::fflush(stdout);
}

// (b) embed_user throughput with `encoder` (LLM `llm` for the projector).
void bench_embed(const std::string& name, const pplug::LoadedModel& llm,
                 std::shared_ptr<const pplug::SentenceEncoder> encoder, int items, int repeats) {
  pplug::PluginConfig config;
  config.task = "LaMP_7";
  pplug::PersonaPlug plug(llm, std::move(encoder), config, /*seed=*/1);
  const auto history = make_history(items);
  const auto t = time_interleaved({[&] { plug.embed_user(history); }}, repeats);
  std::printf(
      "{\"bench\": \"embed_user\", \"encoder\": \"%s\", \"threads\": %d, \"items\": %d, "
      "\"words_per_item\": 30, \"seconds\": %.4f, \"items_per_s\": %.1f}\n",
      name.c_str(), at::get_num_threads(), items, t[0], items / t[0]);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = "../shared/models";
  int threads = 2, repeats = 7, new_tokens = 0;
  bool skip_bert = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--models") {
      models = next();
    } else if (a == "--threads") {
      threads = std::stoi(next());
    } else if (a == "--repeats") {
      repeats = std::stoi(next());
    } else if (a == "--new-tokens") {
      new_tokens = std::stoi(next());
    } else if (a == "--skip-bert") {
      skip_bert = true;
    } else {
      std::cerr << "usage: plugin_bench [--models DIR] [--threads N] [--repeats R] "
                   "[--new-tokens N] [--skip-bert]\n";
      return 2;
    }
  }
  at::set_num_threads(threads);
  try {
    const std::string tok = models + "/stories260K/tok512.model";
    const pplug::LoadedModel stories = pplug::load_model(models + "/stories260K/stories260K.bin");

    // A larger random model: the llama2.c 15M shape with vocab 512 so tok512 fits.
    pplug::LlamaConfig c;
    c.hidden_size = 288;
    c.intermediate_size = 768;
    c.num_hidden_layers = 6;
    c.num_attention_heads = 6;
    c.num_key_value_heads = 6;
    c.vocab_size = 512;
    c.max_position_embeddings = 256;
    c.tie_word_embeddings = true;
    const auto raw = pplug::random_model(c, /*seed=*/1);
    pplug::LoadedModel random15m;
    random15m.model = std::make_shared<const pplug::LlamaModel>(raw.config, raw.weights,
                                                                torch::kFloat32, "random-15M");
    random15m.tokenizer = std::make_shared<const pplug::Tokenizer>(tok);

    // Short and long answers: the plug-in's cost is per query, so it weighs less on long ones.
    for (int n : new_tokens > 0 ? std::vector<int>{new_tokens} : std::vector<int>{32, 128}) {
      for (auto source : {pplug::QuerySource::kEncoder, pplug::QuerySource::kPrompt}) {
        bench_query("stories260K", stories, n, repeats, source);
        bench_query("random-15M-shape (d 288, 6 layers, vocab 512)", random15m, n, repeats, source);
      }
    }

    bench_embed("llm (stories260K)", stories, pplug::load_sentence_encoder("", stories), 32,
                repeats);
    if (!skip_bert) {
      // BERT-base shape, random weights, the real uncased vocabulary.
      const auto dir = std::filesystem::temp_directory_path() / "pplug_bench_bert_base";
      if (!std::filesystem::exists(dir / "model.safetensors")) {
        pplug::write_random_bert(dir.string(), pplug::BertShape{},
                                 models + "/bert-base-uncased-vocab/vocab.txt", /*seed=*/1);
      }
      bench_embed("bert-base shape (random weights)", stories,
                  pplug::load_sentence_encoder(dir.string(), stories), 32, std::min(repeats, 3));
    }
  } catch (const std::exception& e) {
    std::cerr << "plugin_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
