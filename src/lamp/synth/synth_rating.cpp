// kRating: LaMP-3-style product rating. A review's words express a sentiment s in 1..5; the user
// rates clamp(s + bias) where the bias (-2..+2, hidden trait) shows in their history as the gap
// between what their past reviews say and the scores they gave.
#include <algorithm>

#include "lamp/synth/synth_kinds.h"

namespace pplug::lamp::detail {
namespace {

// Sentiment phrases, index = s - 1.
const std::vector<std::vector<const char*>>& phrases() {
  static const std::vector<std::vector<const char*>> kPhrases = {
      {"it broke on the first day and we were very sad", "it is very bad and no one likes it",
       "it is the worst toy and my friend cried"},
      {"it is not very good and it broke a little", "we did not like it much",
       "it is a bit bad and a bit boring"},
      {"it is ok but not great", "it is not bad and not good", "it is fine for a short time"},
      {"it is good and we play with it a lot", "my friend likes it and it is fun",
       "it is nice and it works well"},
      {"it is the best toy ever and we love it", "we love it so much and play every day",
       "it is great and makes everyone happy"}};
  return kPhrases;
}

const std::vector<const char*>& products() {
  static const std::vector<const char*> kProducts = {
      "a red ball",       "a toy car",  "a soft doll",     "a blue kite",
      "a picture book",   "a big hat",  "a teddy bear",    "a little bike",
      "a box of crayons", "a toy boat", "a pair of shoes", "a green cup"};
  return kProducts;
}

const std::vector<const char*>& people() {
  static const std::vector<const char*> kPeople = {"my son",    "my girl",   "my little brother",
                                                   "my sister", "my friend", "my dog",
                                                   "my mom",    "the kids"};
  return kPeople;
}

int clamp_score(int s) { return std::min(5, std::max(1, s)); }

std::string review(Rng& rng, int sentiment) {
  std::string s = "i got ";
  s += pick_word(rng, products());
  s += " for ";
  s += pick_word(rng, people());
  s += ". ";
  s += pick_word(rng, phrases()[static_cast<size_t>(sentiment - 1)]);
  return s + ".";
}

// Noise: with probability 1 - strength the score is off by one (still in 1..5).
int noisy(Rng& rng, int score, double strength) {
  if (rng.chance(strength)) return score;
  return clamp_score(score + (rng.chance(0.5) ? 1 : -1));
}

}  // namespace

void generate_rating_user(int user, Rng& rng, const SynthOptions& options,
                          std::vector<SynthExample>& out) {
  static const int kBiases[] = {-2, -1, -1, 0, 0, 1, 1, 2};
  const int bias = kBiases[rng.below(8)];
  const int pool = options.max_profile + 10;
  std::vector<ProfileItem> history;
  std::vector<int> history_sentiment;
  for (int j = 0; j < pool; ++j) {
    const int sentiment = rng.between(1, 5);
    ProfileItem item;
    item.id = item_id(user, j);
    item.set("text", review(rng, sentiment));
    item.set("score",
             std::to_string(noisy(rng, clamp_score(sentiment + bias), options.trait_strength)));
    item.set("date", synth_date(j * 5));
    history.push_back(std::move(item));
    history_sentiment.push_back(sentiment);
  }
  const std::string prefix =
      "What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, "
      "4, or 5 without further explanation. review: ";
  for (int q = 0; q < options.questions_per_user; ++q) {
    SynthExample ex;
    ex.question.id = question_id(user, q);
    ex.question.user_id = "u" + std::to_string(user);
    const int sentiment = rng.between(1, 5);
    ex.question.input = prefix + review(rng, sentiment);
    const int truth = clamp_score(sentiment + bias);
    ex.gold = std::to_string(noisy(rng, truth, options.trait_strength));
    // Heuristic: the median gap between past scores and past sentiments.
    std::vector<int> gaps;
    for (const int j : pick_history(rng, pool, options.min_profile, options.max_profile)) {
      const ProfileItem& item = history[static_cast<size_t>(j)];
      ex.question.profile.push_back(item);
      gaps.push_back(std::stoi(std::string(item.get("score"))) -
                     history_sentiment[static_cast<size_t>(j)]);
    }
    std::sort(gaps.begin(), gaps.end());
    const int estimate = gaps.empty() ? 0 : gaps[gaps.size() / 2];
    ex.predictions["ceiling"] = std::to_string(truth);
    ex.predictions["history_heuristic"] = std::to_string(clamp_score(sentiment + estimate));
    ex.predictions["input_only:sentiment"] = std::to_string(sentiment);
    for (int c = 1; c <= 5; ++c)
      ex.predictions["constant:" + std::to_string(c)] = std::to_string(c);
    out.push_back(std::move(ex));
  }
}

}  // namespace pplug::lamp::detail
