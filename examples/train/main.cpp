// Training a Persona-Plug plug-in from C++: synthetic LaMP-3-format data, the frozen real
// stories260K as LLM and history encoder, a short run, then a personalized prediction.
//   train MODEL_DIR OUT_DIR      (MODEL_DIR e.g. ../shared/models/stories260K)
// Data-parallel when started as several ranks with torchrun's environment (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT): each rank trains on its share, rank 0 writes and prints.
#include <pplug/distributed.h>
#include <pplug/evaluator.h>
#include <pplug/lamp_synth.h>
#include <pplug/model_io.h>
#include <pplug/persona_plug.h>
#include <pplug/sentence_encoder.h>
#include <pplug/trainer.h>
#include <pplug/training_recipe.h>

#include <iostream>
#include <memory>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: train MODEL_DIR OUT_DIR\n";
    return 2;
  }
  const pplug::DistributedConfig dist = pplug::distributed_config_from_env();
  const bool rank0 = dist.rank == 0;

  // 1. Data: 40 users, each with a hidden rating bias only their history shows.
  pplug::lamp::SynthOptions synth;
  synth.kind = pplug::lamp::SynthKind::kRating;
  synth.users = 40;
  const pplug::lamp::SynthData data = pplug::lamp::generate_synth(synth);
  pplug::LabelledSplit train{data.splits[0].questions, data.splits[0].golds};
  const auto& test = data.splits[2];

  // 2. The frozen LLM doubles as the history encoder. The recipe `pplug train` uses by default
  // chooses the plug-in and optimizer settings for this model (input-aware; for stories260K the
  // small-LLM optimizer and targets without EOS).
  const pplug::LoadedModel llm = pplug::load_model(argv[1]);
  const pplug::TrainingRecipe recipe = pplug::training_recipe(pplug::Recipe::kAuto, llm, "LaMP_3");
  for (const auto& reason : recipe.reasons) {
    if (rank0) std::cout << "recipe: " << reason << "\n";
  }
  auto encoder = pplug::load_sentence_encoder(recipe.encoder, llm);
  pplug::PersonaPlug plug(llm, encoder, recipe.config, /*seed=*/1);

  // 3. Train only the plug-in: a short run (the recipe's 6 epochs would take a minute).
  pplug::TrainOptions options = recipe.options;
  options.epochs = 2;
  options.out_dir = argv[2];
  if (dist.world_size > 1) options.communicator = std::make_shared<pplug::Communicator>(dist);
  const pplug::TrainSummary summary = pplug::train_plugin(plug, train, options);
  if (rank0)
    std::cout << "loss " << summary.first_loss << " -> " << summary.last_loss << " in "
              << summary.steps << " steps\n";

  // 4. Score the test users with the trained plug-in.
  pplug::EvalOptions eval;
  eval.method = pplug::EvalMethod::kPplug;
  eval.generation = pplug::default_generation_options(pplug::lamp::Task::kLaMP3);
  eval.progress_bar = false;
  const auto predictions = pplug::predict_sharded(options.communicator.get(), llm, &plug,
                                                  pplug::lamp::Task::kLaMP3, test.questions, eval);
  const auto scores = pplug::lamp::score(pplug::lamp::Task::kLaMP3, test.golds, predictions);
  if (rank0) std::cout << "test MAE " << scores.at("MAE") << ", RMSE " << scores.at("RMSE") << "\n";
  return 0;
}
