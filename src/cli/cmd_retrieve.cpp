// pplug retrieve: rank each question's profile with the LaMP baseline retriever.
#include <iostream>
#include <memory>
#include <string>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_retrieval.h"

namespace pplug::cli {
namespace {

struct RetrieveArgs {
  std::string task;             // LaMP_1..LaMP_7
  std::string questions;        // questions file
  std::string method = "bm25";  // bm25 or recency
  size_t k = 0;                 // items per question; 0 = all, best first
};

void run_retrieve(const RetrieveArgs& a) {
  const lamp::Task task = lamp::parse_task(a.task);
  const lamp::RetrievalMethod method = lamp::parse_retrieval_method(a.method);
  const auto questions = lamp::read_questions(a.questions, {task});
  std::cout << lamp::retrieval_json(task, questions, method, a.k);
}

}  // namespace

void register_retrieve(CLI::App& app) {
  auto args = std::make_shared<RetrieveArgs>();
  auto* cmd = app.add_subcommand(
      "retrieve", "Rank each question's profile: JSON {question id: [item ids best first]}");
  cmd->add_option("--task", args->task, "LaMP_1..LaMP_7")->required();
  cmd->add_option("--questions", args->questions, "Questions file")->required();
  cmd->add_option("--method", args->method, "bm25 or recency")->capture_default_str();
  cmd->add_option("--k", args->k, "Items per question (0 = all)")
      ->capture_default_str()
      ->check(int_in(0, limits::kMaxItems));
  cmd->callback([args] { run_retrieve(*args); });
}

}  // namespace pplug::cli
