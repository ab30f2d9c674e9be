// pplug prompt: the retrieval-augmented LaMP prompts, one JSON line per question. The length
// budget is counted in the LLM's SentencePiece tokens with --tokenizer, else in words.
#include <iostream>
#include <memory>
#include <string>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "plug/task_prompt.h"
#include "pplug/error.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_prompt.h"
#include "pplug/tokenizer.h"

namespace pplug::cli {
namespace {

struct PromptArgs {
  std::string task;             // LaMP_1..LaMP_7
  std::string questions;        // questions file
  std::string method = "bm25";  // bm25 or recency
  size_t k = 1;                 // items per prompt (0 = the input alone)
  std::string tokenizer;        // SentencePiece model; "" = count whitespace words
  int max_length = 256;         // token budget of the whole prompt
};

void run_prompt(const PromptArgs& a) {
  const lamp::Task task = lamp::parse_task(a.task);
  lamp::PromptOptions options;
  options.method = lamp::parse_retrieval_method(a.method);
  options.k = a.k;
  options.max_length = a.max_length;
  if (a.max_length <= 0) throw InvalidArgument("--max-length must be positive");
  const auto questions = lamp::read_questions(a.questions, {task});
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<lamp::TokenCounter> counter;
  if (a.tokenizer.empty()) {
    counter = std::make_unique<lamp::WhitespaceTokenCounter>();
  } else {
    tokenizer = std::make_unique<Tokenizer>(a.tokenizer);
    counter = std::make_unique<detail::SentencePieceCounter>(*tokenizer);
  }
  std::cout << lamp::rag_prompts_jsonl(task, questions, options, *counter);
}

}  // namespace

void register_prompt(CLI::App& app) {
  auto args = std::make_shared<PromptArgs>();
  auto* cmd = app.add_subcommand(
      "prompt", "Retrieval-augmented LaMP prompts as JSON lines {\"id\", \"prompt\"}");
  cmd->add_option("--task", args->task, "LaMP_1..LaMP_7")->required();
  cmd->add_option("--questions", args->questions, "Questions file")->required();
  cmd->add_option("--method", args->method, "bm25 or recency")->capture_default_str();
  cmd->add_option("--k", args->k, "Profile items per prompt (0 = input only)")
      ->capture_default_str()
      ->check(int_in(0, limits::kMaxItems));
  cmd->add_option("--tokenizer", args->tokenizer,
                  std::string("Tokenizer counting the budget: ") + kTokenizerKinds +
                      " (default: whitespace words)");
  cmd->add_option("--max-length", args->max_length, "Token budget of the prompt")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxPromptTokens));
  cmd->callback([args] { run_prompt(*args); });
}

}  // namespace pplug::cli
