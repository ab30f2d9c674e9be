// pplug synth: write a synthetic personalization benchmark in LaMP format.
#include <iostream>
#include <memory>
#include <string>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/lamp_synth.h"

namespace pplug::cli {
namespace {

struct SynthArgs {
  std::string kind = "tagging";  // tagging, tagging-by-topic, rating, headline or tweet
  lamp::SynthOptions options;    // users, seed, sizes
  std::string out;               // output folder
};

void run_synth(SynthArgs a) {
  a.options.kind = lamp::parse_synth_kind(a.kind);
  const lamp::SynthData data = lamp::generate_synth(a.options);
  lamp::write_synth(data, a.out);
  std::cout << lamp::synth_stats_json(data);
}

}  // namespace

void register_synth(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  auto* cmd = app.add_subcommand(
      "synth",
      "Write a synthetic LaMP-format benchmark ({split}_questions/outputs.json, stats.json)");
  cmd->add_option("--kind", args->kind,
                  "tagging (LaMP_2), tagging-by-topic (LaMP_2, input-aware), rating (LaMP_3), "
                  "headline (LaMP_4), "
                  "tweet (LaMP_7)")
      ->capture_default_str();
  cmd->add_option("--users", args->options.users, "Number of users")
      ->capture_default_str()
      ->check(int_in(3, lamp::kSynthMaxUsers));
  cmd->add_option("--seed", args->options.seed, "PRNG seed")->capture_default_str();
  cmd->add_option("--questions-per-user", args->options.questions_per_user, "Questions per user")
      ->capture_default_str()
      ->check(int_in(1, lamp::kSynthMaxQuestionsPerUser));
  cmd->add_option("--min-profile", args->options.min_profile, "Fewest history items")
      ->capture_default_str()
      ->check(int_in(1, lamp::kSynthMaxProfile));
  cmd->add_option("--max-profile", args->options.max_profile, "Most history items")
      ->capture_default_str()
      ->check(int_in(1, lamp::kSynthMaxProfile));
  cmd->add_option("--trait-strength", args->options.trait_strength,
                  "Probability that an output follows the user's trait")
      ->capture_default_str()
      ->check(real_in(0, 1));
  cmd->add_option("--out", args->out, "Output folder (created when missing)")->required();
  cmd->callback([args] { run_synth(*args); });
}

}  // namespace pplug::cli
