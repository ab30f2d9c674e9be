// pplug bench: load time, prefill and decode throughput at batch 1.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "kernels/cpu_isa.h"
#include "pplug/error.h"

namespace pplug::cli {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct BenchArgs {
  std::string model, tokenizer, dtype = "f32";
  int threads = 0, prompt_tokens = 128, new_tokens = 128, repeats = 3;
};

// Times any model through the LanguageModel interface, as generation runs it: "prefill" starts a
// session after the prompt (a decoder-only model's prompt pass; T5's encoder pass plus its first
// decoder step), "decode" feeds one token at a time.
void run_bench(const BenchArgs& a) {
  set_threads(a.threads);
  auto t0 = Clock::now();
  const auto loaded = load_cli_model(a.model, a.tokenizer, a.dtype, /*need_tokenizer=*/false);
  const double load_s = seconds_since(t0);
  const auto model = language_model_of(loaded);
  const int64_t context = model->max_positions();
  const int64_t capacity = a.prompt_tokens + a.new_tokens;
  if (context > 0 && capacity > context) {
    throw InvalidArgument("--prompt-tokens + --new-tokens must be at most " +
                          std::to_string(context) + ", the model's context");
  }
  c10::InferenceMode guard;
  auto gen = at::detail::createCPUGenerator(1);
  const auto prompt = at::randint(3, model->vocab_size(), {a.prompt_tokens}, gen, at::kLong);
  const std::vector<EmbeddedPrompt> prompts = {{model->embed(prompt), -1}};
  double best_prefill = 1e30, best_decode = 1e30;
  for (int r = 0; r < a.repeats; ++r) {
    auto t1 = Clock::now();
    torch::Tensor logits;
    auto session = model->start(prompts, {0}, a.new_tokens, nullptr, &logits);
    best_prefill = std::min(best_prefill, seconds_since(t1));
    auto t2 = Clock::now();
    for (int i = 0; i < a.new_tokens; ++i) {
      const auto next = logits.argmax(-1).view({1, 1});
      logits = session->feed(next, /*last_only=*/true).squeeze(1);
    }
    best_decode = std::min(best_decode, seconds_since(t2));
  }
  const LlamaModel* llama = model->decoder_only();
  nlohmann::json j = {
      {"model", a.model},
      {"architecture", model->architecture()},
      {"dtype", a.dtype},
      {"weight_type", llama != nullptr
                          ? llama->weight_type()
                          : std::string(model->dtype() == torch::kBFloat16 ? "bf16" : "f32")},
      {"kernels", kernels::isa_name(kernels::best_isa())},
      {"threads", at::get_num_threads()},
      {"prompt_tokens", a.prompt_tokens},
      {"new_tokens", a.new_tokens},
      {"load_s", load_s},
      {"prefill_tok_s", a.prompt_tokens / best_prefill},
      {"decode_tok_s", a.new_tokens / best_decode}};
  // The OpenMP wait policy in force (the launcher sets "passive" unless the user chose one).
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  j["omp_wait_policy"] = policy != nullptr ? policy : "";
  std::cout << j.dump() << "\n";
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Time loading, prefill and decode (batch 1)");
  cmd->add_option("--model", args->model, "Model path")->required();
  cmd->add_option("--tokenizer", args->tokenizer,
                  std::string(kTokenizerKinds) + "; unused for timing, accepted for symmetry");
  cmd->add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  add_threads_option(cmd, args->threads);
  cmd->add_option("--prompt-tokens", args->prompt_tokens, "Prompt length")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxPromptTokens));
  cmd->add_option("--new-tokens", args->new_tokens, "Decoded tokens")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxNewTokens));
  cmd->add_option("--repeats", args->repeats, "Best of N runs")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxRepeats));
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace pplug::cli
