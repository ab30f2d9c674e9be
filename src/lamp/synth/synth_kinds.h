// Private interface between the synthetic-benchmark driver (synth.cpp) and the kinds.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lamp/synth/synth_rng.h"
#include "pplug/lamp_synth.h"

namespace pplug::lamp::detail {

// One generated question, its gold, and what each reference predictor outputs for it.
// Predictor names: "ceiling", "history_heuristic", "history_mix" (optional: the user's overall
// label mix, blind to the input), "constant:<x>" (same output for every
// question), "input_only:<x>" (reads the input but not the profile).
struct SynthExample {
  Question question;
  std::string gold;
  std::map<std::string, std::string> predictions;
};

// Appends options.questions_per_user questions of user `user` (who has one hidden trait).
void generate_tagging_user(int user, Rng& rng, const SynthOptions& options,
                           std::vector<SynthExample>& out);
// kTaggingByTopic (synth_tagging_by_topic.cpp).
void generate_tagging_by_topic_user(int user, Rng& rng, const SynthOptions& options,
                                    std::vector<SynthExample>& out);
void generate_rating_user(int user, Rng& rng, const SynthOptions& options,
                          std::vector<SynthExample>& out);
// kHeadline and kTweet.
void generate_text_user(int user, Rng& rng, const SynthOptions& options,
                        std::vector<SynthExample>& out);

// Helpers shared by the kinds.
// LaMP-2's question text before the description (the official template's wording).
const std::string& lamp2_question_prefix();
// "YYYY-MM-DD" of 2020-01-01 plus `day` days.
std::string synth_date(int day);
// "u0007-q2" / "u0007-h05".
std::string question_id(int user, int q);
std::string item_id(int user, int j);
// A sorted random subset of [0, pool) with a size in [min_size, max_size] (capped at pool).
std::vector<int> pick_history(Rng& rng, int pool, int min_size, int max_size);
// Picks one of `words`.
const char* pick_word(Rng& rng, const std::vector<const char*>& words);

}  // namespace pplug::lamp::detail
