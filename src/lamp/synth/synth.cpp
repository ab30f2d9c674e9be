// The synthetic benchmark driver: users -> splits, reference scores, files.
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lamp/synth/synth_kinds.h"
#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug::lamp {
namespace {

using detail::SynthExample;

void check_options(const SynthOptions& o) {
  auto bad = [](const std::string& what) { throw InvalidArgument("synth: " + what); };
  if (o.users < 3) bad("users must be at least 3 (one per split), got " + std::to_string(o.users));
  if (o.users > kSynthMaxUsers) {
    bad("users must be at most " + std::to_string(kSynthMaxUsers) + ", got " +
        std::to_string(o.users));
  }
  if (o.questions_per_user < 1 || o.questions_per_user > kSynthMaxQuestionsPerUser) {
    bad("questions_per_user must be in [1, " + std::to_string(kSynthMaxQuestionsPerUser) +
        "], got " + std::to_string(o.questions_per_user));
  }
  if (o.min_profile < 1 || o.max_profile < o.min_profile || o.max_profile > kSynthMaxProfile) {
    bad("need 1 <= min_profile <= max_profile <= " + std::to_string(kSynthMaxProfile) + ", got " +
        std::to_string(o.min_profile) + ".." + std::to_string(o.max_profile));
  }
  const int64_t items = int64_t{o.users} * o.questions_per_user * o.max_profile;
  if (items > kSynthMaxProfileItems) {
    bad("users x questions_per_user x max_profile = " + std::to_string(items) +
        " profile items exceeds the limit of " + std::to_string(kSynthMaxProfileItems));
  }
  if (o.dev_fraction < 0 || o.test_fraction < 0 || o.dev_fraction + o.test_fraction >= 1) {
    bad("dev_fraction and test_fraction must be >= 0 with a sum below 1");
  }
  if (o.trait_strength < 0 || o.trait_strength > 1) bad("trait_strength must be in [0, 1]");
}

// Higher is better for every key but MAE / RMSE.
bool better(const Scores& a, const Scores& b, Task task) {
  switch (metric_family(task)) {
    case MetricFamily::kClassification:
      return a.at("accuracy") > b.at("accuracy");
    case MetricFamily::kRating:
      return a.at("MAE") < b.at("MAE");
    case MetricFamily::kGeneration:
      return a.at("rouge-1") > b.at("rouge-1");
  }
  return false;
}

std::map<std::string, Scores> reference_scores(Task task, const std::vector<SynthExample>& ex) {
  if (ex.empty()) return {};
  std::vector<Output> golds;
  golds.reserve(ex.size());
  for (const SynthExample& e : ex) golds.push_back({e.question.id, e.gold});
  std::map<std::string, Scores> all;
  for (const auto& [name, unused] : ex.front().predictions) {
    std::vector<Output> preds;
    preds.reserve(ex.size());
    for (const SynthExample& e : ex) preds.push_back({e.question.id, e.predictions.at(name)});
    all[name] = score(task, golds, preds);
  }
  std::map<std::string, Scores> ref;
  ref["ceiling"] = all.at("ceiling");
  ref["history_heuristic"] = all.at("history_heuristic");
  if (all.count("history_mix")) ref["history_mix"] = all.at("history_mix");
  for (const auto& [name, s] : all) {
    const bool constant = name.rfind("constant:", 0) == 0;
    const bool input_only = name.rfind("input_only:", 0) == 0;
    if (constant && (!ref.count("constant") || better(s, ref["constant"], task))) {
      ref["constant"] = s;
    }
    if ((constant || input_only) && (!ref.count("floor") || better(s, ref["floor"], task))) {
      ref["floor"] = s;
    }
  }
  return ref;
}

}  // namespace

namespace detail {

std::string synth_date(int day) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int year = 2020, month = 0;
  for (;;) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int in_month = kDays[month] + (month == 1 && leap ? 1 : 0);
    if (day < in_month) break;
    day -= in_month;
    if (++month == 12) month = 0, ++year;
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", year, month + 1, day + 1);
  return buf;
}

std::string question_id(int user, int q) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "u%04d-q%d", user, q);
  return buf;
}

std::string item_id(int user, int j) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "u%04d-h%02d", user, j);
  return buf;
}

std::vector<int> pick_history(Rng& rng, int pool, int min_size, int max_size) {
  const int size = std::min(pool, rng.between(min_size, max_size));
  std::vector<int> all(static_cast<size_t>(pool));
  for (int i = 0; i < pool; ++i) all[static_cast<size_t>(i)] = i;
  rng.shuffle(all);
  all.resize(static_cast<size_t>(size));
  std::sort(all.begin(), all.end());
  return all;
}

const char* pick_word(Rng& rng, const std::vector<const char*>& words) { return rng.pick(words); }

}  // namespace detail

SynthKind parse_synth_kind(std::string_view name) {
  if (name == "tagging") return SynthKind::kTagging;
  if (name == "tagging-by-topic") return SynthKind::kTaggingByTopic;
  if (name == "rating") return SynthKind::kRating;
  if (name == "headline") return SynthKind::kHeadline;
  if (name == "tweet") return SynthKind::kTweet;
  throw InvalidArgument("unknown synthetic kind '" + std::string(name) +
                        "' (expected tagging, tagging-by-topic, rating, headline or tweet)");
}

std::string synth_kind_name(SynthKind kind) {
  switch (kind) {
    case SynthKind::kTagging:
      return "tagging";
    case SynthKind::kTaggingByTopic:
      return "tagging-by-topic";
    case SynthKind::kRating:
      return "rating";
    case SynthKind::kHeadline:
      return "headline";
    case SynthKind::kTweet:
      return "tweet";
  }
  return "?";
}

Task synth_task(SynthKind kind) {
  switch (kind) {
    case SynthKind::kTagging:
    case SynthKind::kTaggingByTopic:
      return Task::kLaMP2;
    case SynthKind::kRating:
      return Task::kLaMP3;
    case SynthKind::kHeadline:
      return Task::kLaMP4;
    case SynthKind::kTweet:
      return Task::kLaMP7;
  }
  return Task::kLaMP2;
}

SynthData generate_synth(const SynthOptions& options) {
  check_options(options);
  SynthData data;
  data.options = options;
  data.task = synth_task(options.kind);
  // Users are dealt to splits by a seeded permutation: test first, then dev, the rest train.
  detail::Rng order_rng = detail::Rng::derived(options.seed, 0);
  std::vector<int> users(static_cast<size_t>(options.users));
  for (int u = 0; u < options.users; ++u) users[static_cast<size_t>(u)] = u;
  order_rng.shuffle(users);
  const int n_test =
      std::max(1, static_cast<int>(std::lround(options.users * options.test_fraction)));
  const int n_dev =
      std::max(1, static_cast<int>(std::lround(options.users * options.dev_fraction)));
  if (n_test + n_dev >= options.users) {
    throw InvalidArgument("synth: " + std::to_string(options.users) +
                          " users leave none for train after dev and test");
  }
  std::vector<int> split_of(static_cast<size_t>(options.users), 0);
  for (int i = 0; i < options.users; ++i) {
    split_of[static_cast<size_t>(users[static_cast<size_t>(i)])] =
        i < n_test ? 2 : (i < n_test + n_dev ? 1 : 0);
  }
  std::vector<std::vector<SynthExample>> examples(3);
  for (int u = 0; u < options.users; ++u) {
    // One stream per user: a user's data does not depend on how many users there are.
    detail::Rng rng = detail::Rng::derived(options.seed, static_cast<uint64_t>(u) + 1);
    auto& out = examples[static_cast<size_t>(split_of[static_cast<size_t>(u)])];
    switch (options.kind) {
      case SynthKind::kTagging:
        detail::generate_tagging_user(u, rng, options, out);
        break;
      case SynthKind::kTaggingByTopic:
        detail::generate_tagging_by_topic_user(u, rng, options, out);
        break;
      case SynthKind::kRating:
        detail::generate_rating_user(u, rng, options, out);
        break;
      default:
        detail::generate_text_user(u, rng, options, out);
        break;
    }
  }
  static const char* kNames[] = {"train", "dev", "test"};
  for (size_t s = 0; s < 3; ++s) {
    SynthSplit split;
    split.name = kNames[s];
    split.reference = reference_scores(data.task, examples[s]);
    for (SynthExample& e : examples[s]) {
      split.golds.push_back({e.question.id, e.gold});
      split.questions.push_back(std::move(e.question));
    }
    data.splits.push_back(std::move(split));
  }
  return data;
}

std::string synth_stats_json(const SynthData& data) {
  using nlohmann::ordered_json;
  const SynthOptions& o = data.options;
  ordered_json j;
  j["kind"] = synth_kind_name(o.kind);
  j["task"] = task_name(data.task);
  j["seed"] = o.seed;
  j["users"] = o.users;
  j["questions_per_user"] = o.questions_per_user;
  j["profile_size"] = {o.min_profile, o.max_profile};
  j["trait_strength"] = o.trait_strength;
  for (const SynthSplit& split : data.splits) {
    ordered_json s;
    s["questions"] = split.questions.size();
    for (const char* name : {"floor", "constant", "history_mix", "history_heuristic", "ceiling"}) {
      const auto it = split.reference.find(name);
      if (it == split.reference.end()) continue;
      for (const auto& [metric, value] : it->second) s[name][metric] = value;
    }
    j["splits"][split.name] = s;
  }
  return j.dump(2) + "\n";
}

void write_synth(const SynthData& data, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create directory: " + ec.message());
  for (const SynthSplit& split : data.splits) {
    write_questions(dir + "/" + split.name + "_questions.json", split.questions);
    write_outputs(dir + "/" + split.name + "_outputs.json", data.task, split.golds);
  }
  pplug::detail::write_file_atomic(dir + "/stats.json", synth_stats_json(data));
}

}  // namespace pplug::lamp
