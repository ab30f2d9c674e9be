// Decoder runtime speed at batch 1, held against baselines measured in the same run.
//
//   runtime_bench [--model PATH | --shape 110m|15m] [--dtypes f32,bf16,f16,q8_0,q4_0]
//                 [--threads 1,2]
//                 [--prompt-tokens 128] [--new-tokens 128] [--repeats 3]
//
// Prints one JSON object per (dtype, threads) configuration:
//  - decode_tok_s, prefill_tok_s, load_s: absolute speeds (best of --repeats);
//  - decode_bandwidth_ratio: bytes read per decoded token (weights + average KV cache) x
//    decode_tok_s, divided by a streaming read of a buffer of that size on the same threads
//    (1.0 = the memory-bound ideal);
//  - decode_vs_at_linear: decode speed over the speed of the plain at::linear calls one token
//    needs (same shapes, same dtype, one row each), i.e. what the previous implementation did;
//  - prefill_vs_at_linear: prefill speed over the at::linear calls of the whole prompt (f32 and
//    bf16 only: libtorch has no f16 or quantized CPU matmul).
// llama.cpp on the same weights in the same run: bench/vs_llama_cpp.sh.
// Machines are noisy: compare the ratios, which are measured seconds apart in one process.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu_isa.h"
#include "kernels/weight_type.h"
#include "kernels/x86/avx2_util.h"
#include "kernels/x86/avx512_util.h"
#include "memory/weight_arena.h"
#include "pplug/model_io.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double rss_mb() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

// Sum of words [begin, end): a plain streaming read. With AVX-512 it uses 64-byte loads and the
// kernels' own software prefetch distance, so it is as strong a reader as the decode kernels
// and the ratio cannot flatter them.
#ifdef PPLUG_HAVE_AVX512_KERNELS
PPLUG_AVX512 uint64_t sum_words_avx512(const uint64_t* data, int64_t begin, int64_t end) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(data + i) + pplug::kernels::avx512::kPrefetchBytes,
                 _MM_HINT_T0);
    _mm_prefetch(
        reinterpret_cast<const char*>(data + i) + pplug::kernels::avx512::kPrefetchBytes + 64,
        _MM_HINT_T0);
    acc0 = _mm512_add_epi64(acc0, _mm512_loadu_si512(data + i));
    acc1 = _mm512_add_epi64(acc1, _mm512_loadu_si512(data + i + 8));
  }
  uint64_t sum = _mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1));
  for (; i < end; ++i) sum += data[i];
  return sum;
}
#endif

#ifdef PPLUG_HAVE_AVX2_KERNELS
PPLUG_AVX2 uint64_t sum_words_avx2(const uint64_t* data, int64_t begin, int64_t end) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    _mm_prefetch(reinterpret_cast<const char*>(data + i) + pplug::kernels::avx2::kPrefetchBytes,
                 _MM_HINT_T0);
    acc0 = _mm256_add_epi64(acc0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i)));
    acc1 =
        _mm256_add_epi64(acc1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 4)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(acc0, acc1));
  uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < end; ++i) sum += data[i];
  return sum;
}
#endif

uint64_t sum_words(const uint64_t* data, int64_t begin, int64_t end) {
#ifdef PPLUG_HAVE_AVX512_KERNELS
  if (pplug::kernels::best_isa() >= pplug::kernels::Isa::kAvx512) {
    return sum_words_avx512(data, begin, end);
  }
#endif
#ifdef PPLUG_HAVE_AVX2_KERNELS
  if (pplug::kernels::best_isa() >= pplug::kernels::Isa::kAvx2) {
    return sum_words_avx2(data, begin, end);
  }
#endif
  uint64_t acc[4] = {0, 0, 0, 0};
  int64_t i = begin;
  for (; i + 4 <= end; i += 4) {
    for (int l = 0; l < 4; ++l) acc[l] += data[i + l];
  }
  for (; i < end; ++i) acc[0] += data[i];
  return acc[0] + acc[1] + acc[2] + acc[3];
}

// Reads `bytes` bytes with the intra-op threads, from the same kind of memory the weights live
// in (huge pages, memory::WeightArena): best of 5.
double stream_read_gb_s(size_t bytes) {
  const auto words = static_cast<int64_t>(bytes / sizeof(uint64_t));
  pplug::memory::WeightArena arena(bytes);
  auto buffer = arena.empty({words}, at::kLong).fill_(1);  // touched: every page is real memory
  pplug::memory::promote_to_huge_pages({buffer}, /*wait=*/true);
  const auto* data = reinterpret_cast<const uint64_t*>(buffer.data_ptr<int64_t>());
  double best = 1e30;
  volatile uint64_t sink = 0;
  for (int r = 0; r < 5; ++r) {
    const auto t = Clock::now();
    std::vector<uint64_t> partial(static_cast<size_t>(at::get_num_threads()) * 8, 0);
    at::parallel_for(0, words, 1 << 16, [&](int64_t begin, int64_t end) {
      partial[static_cast<size_t>(at::get_thread_num()) * 8] += sum_words(data, begin, end);
    });
    best = std::min(best, seconds_since(t));
    for (auto p : partial) sink = sink + p;
  }
  return static_cast<double>(bytes) / best / 1e9;
}

struct Shapes {
  std::vector<std::pair<int64_t, int64_t>> per_layer;  // (out, in) of each projection
  int64_t layers = 0, vocab = 0, d = 0;
};

Shapes projection_shapes(const pplug::LlamaConfig& c) {
  const int64_t d = c.hidden_size, hd = c.head_dim(), hidden = c.intermediate_size;
  const int64_t qkv = (c.num_attention_heads + 2 * c.num_key_value_heads) * hd;
  return {{{qkv, d}, {d, c.num_attention_heads * hd}, {2 * hidden, d}, {d, hidden}},
          c.num_hidden_layers,
          c.vocab_size,
          d};
}

// Time of the at::linear calls of one forward over `rows` tokens (output head on one row).
double at_linear_seconds(const Shapes& s, int64_t rows, at::ScalarType dtype, int repeats) {
  std::vector<at::Tensor> weights;
  for (const auto& [out, in] : s.per_layer) weights.push_back(at::randn({out, in}).to(dtype));
  auto head = at::randn({s.vocab, s.d}).to(dtype);
  std::vector<at::Tensor> inputs;
  for (const auto& [out, in] : s.per_layer) inputs.push_back(at::randn({1, rows, in}).to(dtype));
  auto last = at::randn({1, 1, s.d}).to(dtype);
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t = Clock::now();
    for (int64_t l = 0; l < s.layers; ++l) {
      // A fresh weight per layer is not needed: the weights (MBs) do not stay cached anyway
      // for the 110M shape, and for the small shape llama.cpp enjoys the same cache effects.
      for (size_t i = 0; i < weights.size(); ++i) at::linear(inputs[i], weights[i]);
    }
    at::linear(last, head);
    best = std::min(best, seconds_since(t));
  }
  return best;
}

struct Args {
  std::string model, shape = "110m", dtypes = "f32,bf16", threads = "1,2";
  int prompt_tokens = 128, new_tokens = 128, repeats = 3;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
      return argv[++i];
    };
    if (k == "--model")
      a.model = value();
    else if (k == "--shape")
      a.shape = value();
    else if (k == "--dtypes")
      a.dtypes = value();
    else if (k == "--threads")
      a.threads = value();
    else if (k == "--prompt-tokens")
      a.prompt_tokens = std::stoi(value());
    else if (k == "--new-tokens")
      a.new_tokens = std::stoi(value());
    else if (k == "--repeats")
      a.repeats = std::stoi(value());
    else
      throw std::invalid_argument("unknown option " + k);
  }
  return a;
}

pplug::LlamaConfig shape_config(const std::string& shape) {
  pplug::LlamaConfig c;
  if (shape == "110m") {
    c.hidden_size = 768, c.intermediate_size = 2048, c.num_hidden_layers = 12;
    c.num_attention_heads = c.num_key_value_heads = 12;
  } else if (shape == "15m") {
    c.hidden_size = 288, c.intermediate_size = 768, c.num_hidden_layers = 6;
    c.num_attention_heads = c.num_key_value_heads = 6;
  } else {
    throw std::invalid_argument("--shape must be 110m or 15m");
  }
  c.vocab_size = 32000, c.max_position_embeddings = 1024, c.tie_word_embeddings = true;
  return c;
}

void run_config(const Args& a, const std::string& dtype_name, int threads) {
  at::set_num_threads(threads);
  const auto dtype = dtype_name == "bf16" ? at::kBFloat16 : at::kFloat;
  // f16, q8_0, q4_0: float32 compute, matrices stored in that type.
  const std::string weight_type = dtype_name == "f32" || dtype_name == "bf16" ? "" : dtype_name;
  double load_s = 0;
  std::shared_ptr<const pplug::LlamaModel> model;
  if (!a.model.empty()) {
    pplug::ModelLoadOptions options;
    options.dtype = dtype;
    options.weight_type = weight_type;
    options.load_tokenizer = false;
    const auto t = Clock::now();
    model = pplug::load_model(a.model, options).model;
    load_s = seconds_since(t);
  } else {
    const auto raw = pplug::random_model(shape_config(a.shape), 1);
    const auto t = Clock::now();
    model = std::make_shared<const pplug::LlamaModel>(raw.config, raw.weights, dtype, a.shape,
                                                      weight_type);
    load_s = seconds_since(t);  // model construction only (no file)
  }
  const auto& c = model->config();
  c10::InferenceMode guard;
  auto gen = at::detail::createCPUGenerator(1);
  auto prompt = at::randint(3, c.vocab_size, {1, a.prompt_tokens}, gen, at::kLong);
  pplug::ForwardOptions fwd;
  fwd.last_logits_only = true;
  double prefill = 1e30, decode = 1e30, rss_growth = 0;
  for (int r = 0; r < a.repeats; ++r) {
    pplug::KVCache cache(*model, 1, a.prompt_tokens + a.new_tokens);
    auto t = Clock::now();
    auto logits = model->forward(model->embed(prompt), {}, &cache, fwd).logits;
    prefill = std::min(prefill, seconds_since(t));
    // One step first, so the cache's work buffers exist before the RSS baseline.
    logits = model->forward(model->embed(logits.argmax(-1)), {}, &cache, fwd).logits;
    const double rss_before = rss_mb();
    t = Clock::now();
    for (int i = 1; i < a.new_tokens; ++i) {
      logits = model->forward(model->embed(logits.argmax(-1)), {}, &cache, fwd).logits;
    }
    decode = std::min(decode, seconds_since(t) / (a.new_tokens - 1));
    rss_growth = std::max(rss_growth, rss_mb() - rss_before);
  }
  const auto shapes = projection_shapes(c);
  const double elem = dtype == at::kBFloat16 ? 2 : 4;  // activations and KV cache
  pplug::kernels::WeightType stored{};
  pplug::kernels::parse_weight_type(model->weight_type(), &stored);
  auto matrix_bytes = [&](int64_t out, int64_t in) {
    return static_cast<double>(out) * static_cast<double>(pplug::kernels::row_bytes(
                                          pplug::kernels::storage_type_for(stored, in), in));
  };
  double weight_bytes = matrix_bytes(c.vocab_size, c.hidden_size);
  for (const auto& [out, in] : shapes.per_layer) {
    weight_bytes += matrix_bytes(out, in) * static_cast<double>(c.num_hidden_layers);
  }
  // Keys and values read per step, averaged over the decoded positions (prompt + i, i < N).
  const double kv_bytes = 2.0 * static_cast<double>(c.num_hidden_layers * c.kv_dim()) * elem *
                          (a.prompt_tokens + a.new_tokens / 2.0);
  const double step_bytes = weight_bytes + kv_bytes;
  const double probe_gbs = stream_read_gb_s(static_cast<size_t>(step_bytes));
  const bool aten_type = weight_type.empty();
  const double linear_decode = aten_type ? at_linear_seconds(shapes, 1, dtype, a.repeats) : 0;
  const double linear_prefill =
      aten_type ? at_linear_seconds(shapes, a.prompt_tokens, dtype, a.repeats) : 0;
  const double decode_tok_s = 1.0 / decode, prefill_tok_s = a.prompt_tokens / prefill;
  nlohmann::json j = {{"model", a.model.empty() ? "random:" + a.shape : a.model},
                      {"dtype", dtype_name},
                      {"threads", at::get_num_threads()},
                      {"kernels", pplug::kernels::isa_name(pplug::kernels::best_isa())},
                      {"prompt_tokens", a.prompt_tokens},
                      {"new_tokens", a.new_tokens},
                      {"load_s", load_s},
                      {"prefill_tok_s", prefill_tok_s},
                      {"decode_tok_s", decode_tok_s},
                      {"decode_weight_mb_per_token", weight_bytes / 1e6},
                      {"decode_kv_mb_per_token", kv_bytes / 1e6},
                      {"decode_gb_s", step_bytes * decode_tok_s / 1e9},
                      {"stream_read_gb_s", probe_gbs},
                      {"decode_bandwidth_ratio", step_bytes * decode_tok_s / 1e9 / probe_gbs},
                      {"decode_rss_growth_mb", rss_growth}};
  if (aten_type) {
    j["at_linear_decode_tok_s"] = 1.0 / linear_decode;
    j["decode_vs_at_linear"] = linear_decode / decode;
    j["at_linear_prefill_tok_s"] = a.prompt_tokens / linear_prefill;
    j["prefill_vs_at_linear"] = linear_prefill / prefill;
  }
  std::cout << j.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    for (const auto& dtype : split(a.dtypes)) {
      for (const auto& threads : split(a.threads)) run_config(a, dtype, std::stoi(threads));
    }
  } catch (const std::exception& e) {
    std::cerr << "runtime_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
