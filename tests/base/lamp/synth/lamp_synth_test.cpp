#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "pplug/error.h"
#include "pplug/lamp_synth.h"

namespace pplug::lamp {
namespace {

SynthOptions small(SynthKind kind, uint64_t seed = 1) {
  SynthOptions o;
  o.kind = kind;
  o.users = 60;
  o.seed = seed;
  return o;
}

const SynthKind kKinds[] = {SynthKind::kTagging, SynthKind::kTaggingByTopic, SynthKind::kRating,
                            SynthKind::kHeadline, SynthKind::kTweet};

TEST(LampSynth, DeterministicForASeed) {
  for (const SynthKind kind : kKinds) {
    const SynthData a = generate_synth(small(kind));
    const SynthData b = generate_synth(small(kind));
    const SynthData c = generate_synth(small(kind, 2));
    EXPECT_EQ(questions_to_json(a.splits[0].questions), questions_to_json(b.splits[0].questions));
    EXPECT_EQ(outputs_to_json(a.task, a.splits[2].golds),
              outputs_to_json(b.task, b.splits[2].golds));
    EXPECT_EQ(synth_stats_json(a), synth_stats_json(b));
    EXPECT_NE(questions_to_json(a.splits[0].questions), questions_to_json(c.splits[0].questions));
  }
}

TEST(LampSynth, SplitsAreDisjointByUserAndShaped) {
  for (const SynthKind kind : kKinds) {
    const SynthOptions o = small(kind);
    const SynthData d = generate_synth(o);
    ASSERT_EQ(d.splits.size(), 3u);
    EXPECT_EQ(d.task, synth_task(kind));
    std::set<std::string> users_seen, ids;
    size_t total = 0;
    for (const SynthSplit& split : d.splits) {
      std::set<std::string> users;
      ASSERT_EQ(split.questions.size(), split.golds.size());
      for (size_t i = 0; i < split.questions.size(); ++i) {
        const Question& q = split.questions[i];
        EXPECT_EQ(q.id, split.golds[i].id);
        EXPECT_TRUE(ids.insert(q.id).second) << q.id;
        users.insert(q.user_id);
        EXPECT_GE(q.profile.size(), static_cast<size_t>(o.min_profile));
        EXPECT_LE(q.profile.size(), static_cast<size_t>(o.max_profile));
        for (const ProfileItem& item : q.profile) {
          for (const std::string& f : profile_fields(d.task)) {
            if (f != "id") EXPECT_NE(item.find(f), nullptr) << f;
          }
          EXPECT_FALSE(item.get("date").empty());
        }
      }
      for (const std::string& u : users) EXPECT_TRUE(users_seen.insert(u).second) << u;
      total += split.questions.size();
    }
    EXPECT_EQ(total, static_cast<size_t>(o.users * o.questions_per_user));
    EXPECT_EQ(d.splits[2].questions.size(), 6u * 4u);  // 10% of 60 users
  }
}

TEST(LampSynth, HistoryIsNeededAndSufficient) {
  for (const SynthKind kind : kKinds) {
    const SynthData d = generate_synth(small(kind));
    const auto& ref = d.splits[0].reference;  // train: 48 users
    const std::string key = metric_family(d.task) == MetricFamily::kClassification ? "accuracy"
                            : metric_family(d.task) == MetricFamily::kRating       ? "MAE"
                                                                                   : "rouge-1";
    const double floor = ref.at("floor").at(key);
    const double ceiling = ref.at("ceiling").at(key);
    const double heuristic = ref.at("history_heuristic").at(key);
    if (key == "MAE") {
      EXPECT_LT(ceiling + 0.4, floor) << synth_kind_name(kind);
      EXPECT_LT(heuristic + 0.3, floor) << synth_kind_name(kind);
    } else {
      EXPECT_GT(ceiling, floor + 0.15) << synth_kind_name(kind);
      EXPECT_GT(heuristic, floor + 0.1) << synth_kind_name(kind);
    }
  }
}

// tagging-by-topic is built so that only input-aware use of the history reaches the ceiling: the
// user's overall tag mix (blind to the input) is capped near half of it.
TEST(LampSynth, TaggingByTopicNeedsTheItemsThatMatchTheInput) {
  const SynthData d = generate_synth(small(SynthKind::kTaggingByTopic));
  const auto& ref = d.splits[0].reference;
  const double ceiling = ref.at("ceiling").at("accuracy");
  const double mix = ref.at("history_mix").at("accuracy");
  const double heuristic = ref.at("history_heuristic").at("accuracy");
  EXPECT_GT(ceiling, 0.8);
  EXPECT_GT(heuristic, 0.8);
  EXPECT_LT(mix, 0.6);
  EXPECT_GT(mix, 0.3);
  EXPECT_LT(ref.at("floor").at("accuracy"), 0.2);
  EXPECT_NE(synth_stats_json(d).find("history_mix"), std::string::npos);
  // Each question names one of the two topics its user's items are about.
  const auto topic_of = [](std::string_view text) {
    const size_t at = text.find("a movie about ");
    return std::string(text.substr(at + 14, text.find('.', at) - at - 14));
  };
  for (const Question& q : d.splits[0].questions) {
    std::set<std::string> topics;
    for (const ProfileItem& item : q.profile) topics.insert(topic_of(item.get("description")));
    EXPECT_LE(topics.size(), 2u) << q.id;
    EXPECT_GE(topics.size(), 1u) << q.id;
    if (topics.size() == 2) EXPECT_EQ(topics.count(topic_of(q.input)), 1u) << q.id;
  }
  EXPECT_EQ(parse_synth_kind("tagging-by-topic"), SynthKind::kTaggingByTopic);
  EXPECT_EQ(synth_kind_name(SynthKind::kTaggingByTopic), "tagging-by-topic");
}

TEST(LampSynth, WritesReadableFiles) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pplug_lamp_synth_" + std::to_string(::getpid()));
  const SynthData d = generate_synth(small(SynthKind::kRating));
  write_synth(d, dir.string());
  for (const char* split : {"train", "dev", "test"}) {
    const auto qs =
        read_questions((dir / (std::string(split) + "_questions.json")).string(), {Task::kLaMP3});
    EXPECT_FALSE(qs.empty());
    const std::string golds = (dir / (std::string(split) + "_outputs.json")).string();
    EXPECT_EQ(read_outputs(golds).task, "LaMP_3");
    EXPECT_EQ(score_files("LaMP_3", golds, golds).at("MAE"), 0.0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "stats.json"));
  std::filesystem::remove_all(dir);
}

TEST(LampSynth, RejectsBadOptions) {
  SynthOptions o;
  o.users = 2;
  EXPECT_THROW(generate_synth(o), InvalidArgument);
  o = SynthOptions{};
  o.min_profile = 10;
  o.max_profile = 5;
  EXPECT_THROW(generate_synth(o), InvalidArgument);
  o = SynthOptions{};
  o.dev_fraction = 0.6;
  o.test_fraction = 0.5;
  EXPECT_THROW(generate_synth(o), InvalidArgument);
  EXPECT_THROW(parse_synth_kind("poems"), InvalidArgument);
  EXPECT_EQ(parse_synth_kind("tweet"), SynthKind::kTweet);
}

}  // namespace
}  // namespace pplug::lamp
