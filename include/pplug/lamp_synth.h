// A synthetic personalization benchmark in LaMP format. Every user has a hidden trait that only
// their profile reveals (a preferred tag, a rating bias, a signature phrase), so a model that
// ignores the history is capped at the floor while one that reads it can reach the ceiling.
// Texts use the simple vocabulary of children's stories (TinyStories) and stay short, to fit a
// small LLM's context. Output is deterministic for a seed on every platform (own PRNG).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pplug/lamp_data.h"
#include "pplug/lamp_metrics.h"
#include "pplug/lamp_task.h"

namespace pplug::lamp {

enum class SynthKind {
  kTagging,  // LaMP_2 format: the description mentions 3 tags' cues; the user's favourite decides
  kTaggingByTopic,  // LaMP_2 format: the user tags each of their two topics with its own tag, so
                    // the answer needs the history items that match the input (input-aware)
  kRating,          // LaMP_3 format: score = review sentiment + the user's bias (clamped to 1..5)
  kHeadline,  // LaMP_4 format: headline = summary + the user's signature phrase (start or end)
  kTweet,     // LaMP_7 format: paraphrase = reworded tweet + the user's signature phrase
};

// "tagging", "tagging-by-topic", "rating", "headline", "tweet"; throws InvalidArgument otherwise.
SynthKind parse_synth_kind(std::string_view name);
std::string synth_kind_name(SynthKind kind);
// The LaMP task whose format the kind uses (kTagging -> LaMP_2, ...).
Task synth_task(SynthKind kind);

// Options of the generator.
// Upper bounds of SynthOptions (generate_synth refuses more): the data set is built in memory.
inline constexpr int kSynthMaxUsers = 1000000;
inline constexpr int kSynthMaxQuestionsPerUser = 10000;
inline constexpr int kSynthMaxProfile = 100000;
// users x questions_per_user x max_profile: profile items held at once at most.
inline constexpr int64_t kSynthMaxProfileItems = 20000000;

struct SynthOptions {
  SynthKind kind = SynthKind::kTagging;  // which benchmark
  int users = 200;                       // number of users; each has one hidden trait
  uint64_t seed = 1;                     // PRNG seed: same options -> byte-identical files
  int questions_per_user = 4;            // questions per user, all in that user's split
  int min_profile = 8;                   // fewest history items of a question
  int max_profile = 30;                  // most history items of a question
  double dev_fraction = 0.1;             // share of users in dev (users never cross splits)
  double test_fraction = 0.1;            // share of users in test
  double trait_strength = 0.9;           // P(an output follows the user's trait); rest is noise
};

// One split with its reference scores.
struct SynthSplit {
  std::string name;  // "train", "dev" or "test"
  std::vector<Question> questions;
  std::vector<Output> golds;
  // Scores of reference predictors with the task's metric:
  //   "ceiling": knows each user's trait; "floor": best predictor without the history (best of
  //   the constant and input-only predictors); "constant": best constant output (classification
  //   and rating only); "history_heuristic": a simple rule reading the profile;
  //   "history_mix" (tagging-by-topic): the user's most frequent label, blind to the input (the
  //   cap of a plug-in that learns only the user's overall mix).
  std::map<std::string, Scores> reference;
};

struct SynthData {
  SynthOptions options;
  Task task = Task::kLaMP2;
  std::vector<SynthSplit> splits;  // train, dev, test
};

// Generates the benchmark; throws InvalidArgument on inconsistent options.
SynthData generate_synth(const SynthOptions& options);
// stats.json: options, per split the question count and the reference scores.
std::string synth_stats_json(const SynthData& data);
// Writes {split}_questions.json, {split}_outputs.json and stats.json into `dir` (created when
// missing), each atomically.
void write_synth(const SynthData& data, const std::string& dir);

}  // namespace pplug::lamp
