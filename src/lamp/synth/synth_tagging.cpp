// kTagging: LaMP-2-style movie tagging. Each description carries the cues of 3 tags; the user's
// favourite tag (hidden trait, the most frequent tag in their history) is among them and decides.
#include <algorithm>

#include "lamp/synth/synth_kinds.h"

namespace pplug::lamp::detail {
namespace {

constexpr int kCandidates = 3;

// Cue phrases per tag, in task_labels(kLaMP2) order.
const std::vector<std::vector<const char*>>& cues() {
  static const std::vector<std::vector<const char*>> kCues = {
      {"a robot from the moon", "a big rocket in the sky", "a star that can talk"},
      {"a story from an old book", "a girl who reads a book", "a tale from a big book"},
      {"a very funny joke", "a silly clown", "lots of laughing"},
      {"a fast car race", "a big jump over a wall", "a chase in the park"},
      {"a big surprise at the end", "a secret that no one knew", "a trick at the end"},
      {"a gray town with no trees", "a town where no one can play", "a sad broken city"},
      {"a grumpy man who laughs at bad things", "a funny story at night", "a dark joke"},
      {"an old story from long ago", "a grandpa and his old car", "a song from long ago"},
      {"a boy who thinks about his feelings", "a strange dream", "a girl who is scared inside"},
      {"a magic dragon", "a fairy in the forest", "a big castle with a king"},
      {"a prince and a princess in love", "a big hug and a kiss",
       "two friends who love each other"},
      {"a big question about the sky", "a child who wonders why", "a new idea"},
      {"people who must share", "a town with unfair rules", "a rich man and a poor man"},
      {"a big fight", "an angry bear that hits", "a mean boy who hurts others"},
      {"a real family", "a true story about a dog", "a real mom and dad"}};
  return kCues;
}

const std::vector<const char*>& heroes() {
  static const std::vector<const char*> kHeroes = {
      "a little girl", "a small boy", "a happy dog",   "a big cat",   "a kind bird",
      "a brave bunny", "a shy fish",  "a little bear", "two friends", "a tall tree"};
  return kHeroes;
}

// Three distinct tags, `must` among them (at a random position) when must >= 0.
std::vector<int> candidate_tags(Rng& rng, int must) {
  std::vector<int> tags;
  if (must >= 0) tags.push_back(must);
  while (static_cast<int>(tags.size()) < kCandidates) {
    const int t = static_cast<int>(rng.below(15));
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
  }
  rng.shuffle(tags);
  return tags;
}

std::string describe(Rng& rng, const std::vector<int>& tags) {
  std::string s = "this is a movie about ";
  s += pick_word(rng, heroes());
  s += ". it has ";
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) s += i + 1 == tags.size() ? " and " : ", ";
    s += pick_word(rng, cues()[static_cast<size_t>(tags[i])]);
  }
  return s + ".";
}

int other_than(Rng& rng, const std::vector<int>& tags, int excluded) {
  std::vector<int> rest;
  for (const int t : tags) {
    if (t != excluded) rest.push_back(t);
  }
  return rng.pick(rest);
}

}  // namespace

const std::string& lamp2_question_prefix() {
  static const std::string kPrefix =
      "Which tag does this movie relate to among the following tags? Just answer with the tag "
      "name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist "
      "ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, "
      "social commentary, violence, true story] description: ";
  return kPrefix;
}

void generate_tagging_user(int user, Rng& rng, const SynthOptions& options,
                           std::vector<SynthExample>& out) {
  const auto& labels = task_labels(Task::kLaMP2);
  const int favourite = static_cast<int>(rng.below(15));
  // The user's history pool: mostly favourite-tagged movies, some distractors tagged otherwise.
  const int pool = options.max_profile + 10;
  std::vector<ProfileItem> history;
  for (int j = 0; j < pool; ++j) {
    const bool typical = rng.chance(0.5 + 0.3 * options.trait_strength);
    const std::vector<int> tags = candidate_tags(rng, typical ? favourite : -1);
    const int tag = typical ? favourite : other_than(rng, tags, favourite);
    ProfileItem item;
    item.id = item_id(user, j);
    item.set("description", describe(rng, tags));
    item.set("tag", labels[static_cast<size_t>(tag)]);
    item.set("date", synth_date(j * 7));
    history.push_back(std::move(item));
  }
  const std::string& prefix = lamp2_question_prefix();
  for (int q = 0; q < options.questions_per_user; ++q) {
    SynthExample ex;
    ex.question.id = question_id(user, q);
    ex.question.user_id = "u" + std::to_string(user);
    const std::vector<int> tags = candidate_tags(rng, favourite);
    ex.question.input = prefix + describe(rng, tags);
    const int gold =
        rng.chance(options.trait_strength) ? favourite : other_than(rng, tags, favourite);
    ex.gold = labels[static_cast<size_t>(gold)];
    std::vector<int> counts(15, 0);
    for (const int j : pick_history(rng, pool, options.min_profile, options.max_profile)) {
      ex.question.profile.push_back(history[static_cast<size_t>(j)]);
      ++counts[static_cast<size_t>(
          std::find(labels.begin(), labels.end(), history[static_cast<size_t>(j)].get("tag")) -
          labels.begin())];
    }
    // Heuristic: the candidate this user tagged most often (first candidate on ties).
    int best = tags[0];
    for (const int t : tags) {
      if (counts[static_cast<size_t>(t)] > counts[static_cast<size_t>(best)]) best = t;
    }
    ex.predictions["ceiling"] = labels[static_cast<size_t>(favourite)];
    ex.predictions["history_heuristic"] = labels[static_cast<size_t>(best)];
    ex.predictions["input_only:first_cue"] = labels[static_cast<size_t>(tags[0])];
    for (const std::string& label : labels) ex.predictions["constant:" + label] = label;
    out.push_back(std::move(ex));
  }
}

}  // namespace pplug::lamp::detail
