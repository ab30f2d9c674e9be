// predict() split across the ranks of a data-parallel group, batch by batch.
#include <cstdint>
#include <cstring>

#include "pplug/distributed.h"
#include "pplug/error.h"
#include "pplug/evaluator.h"

namespace pplug {
namespace {

// Length-prefixed strings: model outputs may hold any bytes (a byte-fallback token can end a
// text mid-character), which JSON could not carry unchanged.
void put(std::string& out, const std::string& s) {
  const auto n = static_cast<uint64_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof(n));
  out += s;
}

std::string take(const std::string& in, size_t& at, int rank) {
  uint64_t n = 0;
  if (in.size() - at < sizeof(n)) {
    throw Error("predict_sharded: rank " + std::to_string(rank) + " sent a truncated answer");
  }
  std::memcpy(&n, in.data() + at, sizeof(n));
  at += sizeof(n);
  if (in.size() - at < n) {
    throw Error("predict_sharded: rank " + std::to_string(rank) + " sent a truncated answer");
  }
  std::string s = in.substr(at, n);
  at += n;
  return s;
}

}  // namespace

std::vector<lamp::Output> predict_sharded(Communicator* comm, const LoadedModel& llm,
                                          const PersonaPlug* plug, lamp::Task task,
                                          const std::vector<lamp::Question>& questions,
                                          const EvalOptions& options) {
  if (comm == nullptr || comm->world_size() == 1) {
    return predict(llm, plug, task, questions, options);
  }
  const int world = comm->world_size();
  const auto batch = static_cast<size_t>(std::max(1, options.batch_size));
  // Whole batches of the one-process run, dealt round-robin: each batch is padded and decoded
  // exactly as one process would, so the predictions are the same.
  std::vector<lamp::Question> mine;
  for (size_t start = 0; start < questions.size(); start += batch) {
    if (static_cast<int>((start / batch) % static_cast<size_t>(world)) != comm->rank()) continue;
    for (size_t i = start; i < std::min(questions.size(), start + batch); ++i) {
      mine.push_back(questions[i]);
    }
  }
  EvalOptions local = options;
  local.progress_bar = options.progress_bar && comm->rank() == 0;
  const auto preds = predict(llm, plug, task, mine, local);
  std::string out;
  for (const auto& p : preds) {
    put(out, p.id);
    put(out, p.output);
  }
  const auto gathered = comm->all_gather_strings(out);
  std::vector<size_t> next(gathered.size(), 0);
  std::vector<lamp::Output> merged;
  merged.reserve(questions.size());
  for (size_t start = 0; start < questions.size(); start += batch) {
    const auto r = (start / batch) % static_cast<size_t>(world);
    for (size_t i = start; i < std::min(questions.size(), start + batch); ++i) {
      lamp::Output p;
      p.id = take(gathered[r], next[r], static_cast<int>(r));
      p.output = take(gathered[r], next[r], static_cast<int>(r));
      if (p.id != questions[i].id) {
        throw Error("predict_sharded: rank " + std::to_string(r) + " answered '" + p.id +
                    "' where question '" + questions[i].id + "' was due");
      }
      merged.push_back(std::move(p));
    }
  }
  return merged;
}

}  // namespace pplug
