#include "pplug/evaluator.h"

#include <c10/core/InferenceMode.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>

#include "generation/framed_prompt.h"
#include "plug/task_prompt.h"
#include "pplug/error.h"
#include "pplug/lamp_prompt.h"
#include "pplug/lamp_retrieval.h"
#include "util/progress.h"

namespace pplug {
namespace {

using detail::SentencePieceCounter;

std::string rag_input(lamp::Task task, const lamp::Question& q, lamp::RetrievalMethod method, int k,
                      const Tokenizer& tok, int max_tokens) {
  lamp::PromptOptions po;
  po.method = method;
  po.k = static_cast<size_t>(k);
  po.max_length = max_tokens;
  return lamp::make_rag_prompt(task, q, po, SentencePieceCounter(tok));
}

}  // namespace

EvalMethod parse_eval_method(const std::string& name) {
  if (name == "none") return EvalMethod::kNone;
  if (name == "rag-bm25") return EvalMethod::kRagBm25;
  if (name == "rag-recency") return EvalMethod::kRagRecency;
  if (name == "pplug") return EvalMethod::kPplug;
  if (name == "pplug-rag") return EvalMethod::kPplugRag;
  throw InvalidArgument("unknown method '" + name +
                        "' (expected none, rag-bm25, rag-recency, pplug or pplug-rag)");
}

const char* to_string(EvalMethod method) {
  switch (method) {
    case EvalMethod::kNone:
      return "none";
    case EvalMethod::kRagBm25:
      return "rag-bm25";
    case EvalMethod::kRagRecency:
      return "rag-recency";
    case EvalMethod::kPplug:
      return "pplug";
    case EvalMethod::kPplugRag:
      return "pplug-rag";
  }
  return "none";
}

GenerationOptions default_generation_options(lamp::Task task) {
  GenerationOptions g;
  switch (lamp::metric_family(task)) {
    case lamp::MetricFamily::kClassification:
      g.max_new_tokens = 12;
      g.stop_strings = {"\n"};
      break;
    case lamp::MetricFamily::kRating:
      g.max_new_tokens = 4;
      g.stop_strings = {"\n"};
      break;
    case lamp::MetricFamily::kGeneration:
      g.max_new_tokens = 48;
      g.num_beams = 4;
      g.stop_strings = {"\n"};
      break;
  }
  return g;
}

std::string clean_prediction(const std::string& text) {
  std::string s = text.substr(0, text.find('\n'));
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::vector<std::string> candidate_labels(lamp::Task task) {
  switch (lamp::metric_family(task)) {
    case lamp::MetricFamily::kClassification:
      return lamp::task_labels(task);
    case lamp::MetricFamily::kRating:
      return {"1", "2", "3", "4", "5"};
    case lamp::MetricFamily::kGeneration:
      return {};
  }
  return {};
}

std::pair<double, bool> primary_metric(lamp::Task task, const lamp::Scores& scores) {
  switch (lamp::metric_family(task)) {
    case lamp::MetricFamily::kClassification:
      return {scores.at("accuracy"), true};
    case lamp::MetricFamily::kRating:
      return {scores.at("MAE"), false};
    case lamp::MetricFamily::kGeneration:
      return {scores.at("rouge-1"), true};
  }
  return {0.0, true};
}

std::vector<lamp::Output> predict(const LoadedModel& llm, const PersonaPlug* plug, lamp::Task task,
                                  const std::vector<lamp::Question>& questions,
                                  const EvalOptions& o) {
  const bool personal = o.method == EvalMethod::kPplug || o.method == EvalMethod::kPplugRag;
  if (personal && plug == nullptr) {
    throw InvalidArgument(std::string("method ") + to_string(o.method) + " needs a plug-in");
  }
  if (o.batch_size < 1) throw InvalidArgument("eval batch_size must be >= 1");
  const Tokenizer& tok = *llm.tokenizer;
  const auto model = language_model_of(llm);
  if (!model || !llm.tokenizer) throw InvalidArgument("predict: needs an LLM with its tokenizer");
  Generator generator(model, llm.tokenizer);
  std::vector<lamp::Output> out;
  out.reserve(questions.size());
  const int64_t batches =
      (static_cast<int64_t>(questions.size()) + o.batch_size - 1) / o.batch_size;
  detail::Progress progress(batches, o.progress_bar, 10);
  const int rag_budget = o.max_input_tokens;
  const std::vector<std::string> labels =
      o.choose_among_labels ? candidate_labels(task) : std::vector<std::string>{};
  std::vector<std::vector<int>> label_ids;
  // Labels are scored as the plug-in was trained to end them; the frozen LLM alone by the label.
  const bool label_eos = personal && plug->config().end_with_eos;
  for (const auto& label : labels) label_ids.push_back(tok.encode(label, false, label_eos));
  for (size_t start = 0; start < questions.size(); start += o.batch_size) {
    const size_t end = std::min(questions.size(), start + o.batch_size);
    std::vector<std::string> inputs;
    for (size_t i = start; i < end; ++i) {
      const auto& q = questions[i];
      switch (o.method) {
        case EvalMethod::kNone:
        case EvalMethod::kPplug:
          inputs.push_back(q.input);
          break;
        case EvalMethod::kRagBm25:
        case EvalMethod::kPplugRag:
          inputs.push_back(rag_input(task, q, lamp::RetrievalMethod::kBm25, o.k, tok, rag_budget));
          break;
        case EvalMethod::kRagRecency:
          inputs.push_back(
              rag_input(task, q, lamp::RetrievalMethod::kRecency, o.k, tok, rag_budget));
          break;
      }
    }
    // One row of results per question: label scores (rank classification) or generations.
    std::vector<std::vector<double>> scores;
    std::vector<GenerationResult> results;
    if (personal) {
      std::vector<std::vector<HistoryItem>> histories;
      histories.reserve(end - start);
      for (size_t i = start; i < end; ++i) histories.push_back(questions[i].profile);
      const std::vector<UserEmbedding> users = plug->embed_users(histories);
      std::vector<UserRequest> requests;
      for (size_t i = 0; i < users.size(); ++i) requests.push_back({&users[i], inputs[i]});
      if (!labels.empty()) {
        scores = plug->score_candidates(requests, label_ids);
      } else {
        results = plug->generate(requests, o.generation);
      }
    } else {
      c10::InferenceMode guard;
      const auto cue = tok.encode(o.answer_prefix);
      std::vector<EmbeddedPrompt> prompts;
      for (const auto& input : inputs) {
        std::vector<int> ids = detail::task_prompt_ids(tok, input, o.max_input_tokens, cue);
        const int anchor = ids.back();
        ids = detail::framed_prompt(*model, tok, ids);
        auto t = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
        prompts.push_back({model->embed(t.unsqueeze(0)).squeeze(0), anchor});
      }
      if (!labels.empty()) {
        scores = generator.score_candidates(prompts, label_ids);
      } else {
        results = generator.generate_embedded(prompts, o.generation);
      }
    }
    for (size_t i = start; i < end; ++i) {
      if (!labels.empty()) {
        const auto& row = scores[i - start];
        const size_t best = std::max_element(row.begin(), row.end()) - row.begin();
        out.push_back({questions[i].id, labels[best]});
      } else {
        out.push_back({questions[i].id, clean_prediction(results[i - start].text)});
      }
    }
    if (o.progress_bar)
      progress.update(static_cast<int64_t>(start / o.batch_size) + 1, 1, 0.0, 0.0);
  }
  progress.finish();
  return out;
}

}  // namespace pplug
