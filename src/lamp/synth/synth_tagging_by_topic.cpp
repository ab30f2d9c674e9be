// kTaggingByTopic: LaMP-2-style movie tagging where the answer depends on the input AND the user.
// Each user tags movies of one topic with one tag and movies of another topic with another tag;
// the topic is plain in the description, the user's two choices only in their own history. A
// predictor that weighs history items by their relevance to the input (same topic) reaches the
// ceiling; one that knows only the user's overall tag mix is capped near half of it
// ("history_mix" in stats.json). This is the shape the input-aware aggregator exists for.
#include <algorithm>

#include "lamp/synth/synth_kinds.h"

namespace pplug::lamp::detail {
namespace {

// Topic words: every description names its topic several times, in TinyStories vocabulary.
struct Topic {
  const char* name;
  std::vector<const char*> scenes;
};

const std::vector<Topic>& topics() {
  static const std::vector<Topic> kTopics = {
      {"the sea", {"a boat on the sea", "a big fish in the water", "waves on the beach"}},
      {"a farm", {"a cow on the farm", "a pig in the mud", "a farmer and his hens"}},
      {"the snow", {"a snowman in the cold", "kids who play in the snow", "ice on the hill"}},
      {"a school", {"a teacher and her class", "kids with books at school", "a bell at school"}},
      {"space", {"a rocket to the moon", "stars in the dark sky", "a planet far away"}},
      {"a forest", {"tall trees in the woods", "a fox in the forest", "a path through the woods"}},
  };
  return kTopics;
}

const std::vector<const char*>& heroes() {
  static const std::vector<const char*> kHeroes = {
      "a little girl", "a small boy", "a happy dog",   "a big cat",   "a kind bird",
      "a brave bunny", "a shy fish",  "a little bear", "two friends", "an old man"};
  return kHeroes;
}

std::string describe(Rng& rng, int topic) {
  const Topic& t = topics()[static_cast<size_t>(topic)];
  std::string s = "this is a movie about ";
  s += t.name;
  s += ". it has ";
  s += pick_word(rng, heroes());
  s += ", ";
  s += pick_word(rng, t.scenes);
  s += " and ";
  s += pick_word(rng, t.scenes);
  return s + ".";
}

// A tag other than `excluded`, uniformly.
int other_tag(Rng& rng, int excluded) {
  int t = static_cast<int>(rng.below(14));
  return t >= excluded ? t + 1 : t;
}

}  // namespace

void generate_tagging_by_topic_user(int user, Rng& rng, const SynthOptions& options,
                                    std::vector<SynthExample>& out) {
  const auto& labels = task_labels(Task::kLaMP2);
  const int n_topics = static_cast<int>(topics().size());
  // The user's two topics and the tag they give each (distinct tags, or one topic would not
  // need the input to be told apart).
  const int topic_a = static_cast<int>(rng.below(static_cast<uint64_t>(n_topics)));
  int topic_b = static_cast<int>(rng.below(static_cast<uint64_t>(n_topics - 1)));
  if (topic_b >= topic_a) ++topic_b;
  const int tag_a = static_cast<int>(rng.below(15));
  const int tag_b = other_tag(rng, tag_a);
  const int user_topics[2] = {topic_a, topic_b};
  const int user_tags[2] = {tag_a, tag_b};

  // The history pool: half the movies of each topic, tagged the user's way with probability
  // 0.5 + 0.5 * trait_strength (the rest noise), so the history shows the mapping clearly.
  const int pool = options.max_profile + 10;
  std::vector<ProfileItem> history;
  std::vector<int> history_topic, history_tag;
  for (int j = 0; j < pool; ++j) {
    const int side = static_cast<int>(rng.below(2));
    const bool typical = rng.chance(0.5 + 0.5 * options.trait_strength);
    const int tag = typical ? user_tags[side] : other_tag(rng, user_tags[side]);
    ProfileItem item;
    item.id = item_id(user, j);
    item.set("description", describe(rng, user_topics[side]));
    item.set("tag", labels[static_cast<size_t>(tag)]);
    item.set("date", synth_date(j * 7));
    history.push_back(std::move(item));
    history_topic.push_back(user_topics[side]);
    history_tag.push_back(tag);
  }
  const std::string& prefix = lamp2_question_prefix();
  for (int q = 0; q < options.questions_per_user; ++q) {
    SynthExample ex;
    ex.question.id = question_id(user, q);
    ex.question.user_id = "u" + std::to_string(user);
    const int side = static_cast<int>(rng.below(2));
    const int topic = user_topics[side];
    ex.question.input = prefix + describe(rng, topic);
    const int gold =
        rng.chance(options.trait_strength) ? user_tags[side] : other_tag(rng, user_tags[side]);
    ex.gold = labels[static_cast<size_t>(gold)];
    // Tag counts over the question's profile: all items, and the items of the input's topic.
    std::vector<int> counts_all(15, 0), counts_topic(15, 0);
    for (const int j : pick_history(rng, pool, options.min_profile, options.max_profile)) {
      ex.question.profile.push_back(history[static_cast<size_t>(j)]);
      const auto tag = static_cast<size_t>(history_tag[static_cast<size_t>(j)]);
      ++counts_all[tag];
      if (history_topic[static_cast<size_t>(j)] == topic) ++counts_topic[tag];
    }
    // Ties go to the lowest tag index: deterministic, and no rule gets a lucky tie-break.
    const auto argmax = [](const std::vector<int>& c) {
      return static_cast<size_t>(std::max_element(c.begin(), c.end()) - c.begin());
    };
    ex.predictions["ceiling"] = labels[static_cast<size_t>(user_tags[side])];
    // Input-aware rule: the most frequent tag among the history items of the input's topic
    // (the overall most frequent one when the profile has none of that topic).
    const bool has_topic = *std::max_element(counts_topic.begin(), counts_topic.end()) > 0;
    ex.predictions["history_heuristic"] = labels[argmax(has_topic ? counts_topic : counts_all)];
    // The "overall mix" cap: the user's most frequent tag, whatever the input.
    ex.predictions["history_mix"] = labels[argmax(counts_all)];
    for (const std::string& label : labels) ex.predictions["constant:" + label] = label;
    out.push_back(std::move(ex));
  }
}

}  // namespace pplug::lamp::detail
