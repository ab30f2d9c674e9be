// kHeadline (LaMP-4 format) and kTweet (LaMP-7 format). The output is a plain rewrite of the input
// (a summary headline, a reworded tweet) plus the user's signature phrase at the start or the
// end: the hidden trait, shown by the user's past titles / tweets.
#include <algorithm>

#include "lamp/synth/synth_kinds.h"

namespace pplug::lamp::detail {
namespace {

constexpr int kStyles = 3;

struct Habit {
  int signature = 0;    // index in signatures()
  bool at_end = false;  // the phrase ends (true) or starts (false) the text
  int style = 0;        // which of kStyles phrasings the user writes in
};

// The slots of one generated text, rendered in any style.
struct Slots {
  std::string name, adj, animal, place, verb_s, verb_past, feeling;
};

const std::vector<const char*>& signatures() {
  static const std::vector<const char*> kSignatures = {
      "oh wow",     "big news",   "so much fun",  "yay yay",       "look at this",
      "what a day", "guess what", "the best day", "hooray for us", "once upon a time"};
  return kSignatures;
}

std::string with_habit(const Habit& h, const std::string& text) {
  const std::string sig = signatures()[static_cast<size_t>(h.signature)];
  return h.at_end ? text + " " + sig : sig + " " + text;
}

const std::vector<const char*> kNames = {"lily", "tom", "ben", "sue",  "max",
                                         "mia",  "tim", "sam", "anna", "jack"};
const std::vector<const char*> kAdjectives = {"little", "big",   "happy", "brave",
                                              "silly",  "small", "kind",  "red"};
const std::vector<const char*> kAnimals = {"dog",  "cat",  "bird", "bunny", "bear",
                                           "duck", "fish", "frog", "girl",  "boy"};
const std::vector<const char*> kPlaces = {"park",   "garden", "beach", "forest",
                                          "school", "farm",   "lake",  "house"};
// {base, third person, past}
const std::vector<std::vector<const char*>> kVerbs = {
    {"play", "plays", "played"}, {"dance", "dances", "danced"}, {"run", "runs", "ran"},
    {"sing", "sings", "sang"},   {"swim", "swims", "swam"},     {"jump", "jumps", "jumped"},
    {"hide", "hides", "hid"}};
const std::vector<const char*> kThings = {"ball", "kite", "box", "hat", "cake", "boat", "toy"};
const std::vector<const char*> kEndings = {"then they went home", "at night they slept well",
                                           "mom was very happy", "the sun was warm"};
const std::vector<const char*> kFeelings = {"fun", "good", "nice", "great"};

Slots draw_slots(Rng& rng) {
  Slots t;
  t.name = pick_word(rng, kNames);
  t.adj = pick_word(rng, kAdjectives);
  t.animal = pick_word(rng, kAnimals);
  t.place = pick_word(rng, kPlaces);
  const auto& verb = rng.pick(kVerbs);
  t.verb_s = verb[1];
  t.verb_past = verb[2];
  t.feeling = pick_word(rng, kFeelings);
  return t;
}

// A short news article (the input of kHeadline).
std::string article(Rng& rng, const Slots& t) {
  return t.name + " the " + t.adj + " " + t.animal + " went to the " + t.place +
         " with a friend. they " + t.verb_past + " with a " + pick_word(rng, kAdjectives) + " " +
         pick_word(rng, kThings) + " and had a lot of fun. " + pick_word(rng, kEndings) + ".";
}

// The headline of an article in one of the styles (before the signature).
std::string headline_in_style(const Slots& t, int style) {
  switch (style) {
    case 0:
      return t.adj + " " + t.animal + " " + t.verb_s + " at the " + t.place;
    case 1:
      return "fun at the " + t.place + " for " + t.name + " the " + t.animal;
    default:
      return t.name + " and a friend " + t.verb_past + " all day";
  }
}

// A tweet as written plainly (the input of kTweet).
std::string plain_tweet(const Slots& t) {
  return "today i " + t.verb_past + " with my " + t.adj + " " + t.animal + " at the " + t.place +
         " and it was " + t.feeling;
}

// The same tweet in one of the styles (before the signature).
std::string tweet_in_style(const Slots& t, int style) {
  switch (style) {
    case 0:
      return "my " + t.adj + " " + t.animal + " and i " + t.verb_past + " at the " + t.place +
             " today, it was so " + t.feeling;
    case 1:
      return "so " + t.feeling + "! " + t.verb_past + " at the " + t.place + " with my " + t.animal;
    default:
      return t.place + " day with my " + t.adj + " " + t.animal + ": we " + t.verb_past +
             " and it was " + t.feeling;
  }
}

int detect_style(const std::string& text, bool headline) {
  if (headline) {
    if (text.find("fun at the ") != std::string::npos) return 1;
    if (text.find(" and a friend ") != std::string::npos) return 2;
    return 0;
  }
  if (text.find('!') != std::string::npos) return 1;
  if (text.find(" day with my ") != std::string::npos) return 2;
  return 0;
}

// The habit a history shows most often (the first candidate on ties or when none shows).
Habit guess_habit(const std::vector<std::string>& texts, bool headline) {
  const size_t n = signatures().size();
  std::vector<int> starts(n, 0), ends(n, 0), styles(kStyles, 0);
  for (const std::string& t : texts) {
    ++styles[static_cast<size_t>(detect_style(t, headline))];
    for (size_t s = 0; s < n; ++s) {
      const std::string sig = signatures()[s];
      if (t.compare(0, sig.size() + 1, sig + " ") == 0) ++starts[s];
      if (t.size() > sig.size() &&
          t.compare(t.size() - sig.size() - 1, sig.size() + 1, " " + sig) == 0) {
        ++ends[s];
      }
    }
  }
  Habit best;
  int best_count = -1;
  for (size_t s = 0; s < n; ++s) {
    if (starts[s] > best_count)
      best.signature = static_cast<int>(s), best.at_end = false, best_count = starts[s];
    if (ends[s] > best_count)
      best.signature = static_cast<int>(s), best.at_end = true, best_count = ends[s];
  }
  best.style = static_cast<int>(std::max_element(styles.begin(), styles.end()) - styles.begin());
  return best;
}

}  // namespace

void generate_text_user(int user, Rng& rng, const SynthOptions& options,
                        std::vector<SynthExample>& out) {
  const bool headline = options.kind == SynthKind::kHeadline;
  Habit habit;
  habit.signature = static_cast<int>(rng.below(signatures().size()));
  habit.at_end = rng.chance(0.5);
  habit.style = static_cast<int>(rng.below(kStyles));
  auto in_style = [&](const Slots& t, int style) {
    return headline ? headline_in_style(t, style) : tweet_in_style(t, style);
  };
  // The user's own text: their style, with their signature unless the noise drops it.
  auto own = [&](const Slots& t) {
    const std::string text = in_style(t, habit.style);
    return rng.chance(options.trait_strength) ? with_habit(habit, text) : text;
  };
  const int pool = options.max_profile + 10;
  std::vector<ProfileItem> history;
  for (int j = 0; j < pool; ++j) {
    const Slots t = draw_slots(rng);
    ProfileItem item;
    item.id = item_id(user, j);
    if (headline) {
      item.set("title", own(t));
      item.set("text", article(rng, t));
    } else {
      item.set("text", own(t));
    }
    item.set("date", synth_date(j * 3));
    history.push_back(std::move(item));
  }
  const std::string prefix = headline ? "Generate a headline for the following article: "
                                      : "Paraphrase the following tweet without any explanation "
                                        "before or after it: ";
  for (int q = 0; q < options.questions_per_user; ++q) {
    SynthExample ex;
    ex.question.id = question_id(user, q);
    ex.question.user_id = "u" + std::to_string(user);
    const Slots t = draw_slots(rng);
    ex.question.input = prefix + (headline ? article(rng, t) : plain_tweet(t));
    ex.gold = own(t);
    std::vector<std::string> seen;
    for (const int j : pick_history(rng, pool, options.min_profile, options.max_profile)) {
      const ProfileItem& item = history[static_cast<size_t>(j)];
      ex.question.profile.push_back(item);
      seen.emplace_back(item.get(headline ? "title" : "text"));
    }
    const Habit guess = guess_habit(seen, headline);
    ex.predictions["ceiling"] = with_habit(habit, in_style(t, habit.style));
    ex.predictions["history_heuristic"] = with_habit(guess, in_style(t, guess.style));
    // Input-only predictors: every fixed style, with no or any fixed signature.
    for (int style = 0; style < kStyles; ++style) {
      const std::string text = in_style(t, style);
      const std::string tag = "input_only:style" + std::to_string(style);
      ex.predictions[tag] = text;
      for (int s = 0; s < static_cast<int>(signatures().size()); ++s) {
        for (const bool at_end : {false, true}) {
          ex.predictions[tag + ":" + signatures()[static_cast<size_t>(s)] +
                         (at_end ? "@end" : "@start")] = with_habit(Habit{s, at_end, style}, text);
        }
      }
    }
    out.push_back(std::move(ex));
  }
}

}  // namespace pplug::lamp::detail
