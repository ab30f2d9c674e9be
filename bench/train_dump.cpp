// Writes everything `pplug train` starts from, so that bench/train_reference.py can replay the
// same training step for step in PyTorch: the frozen LLM (HF names), the encoder's item and input
// vectors, the plug-in's initial weights, every example's token ids, the per-epoch example order
// and the optimizer's hyper-parameters.
//
//   train_dump <the flags of pplug train>     (--out names the dump folder)
//
// The flags are parsed by the same code as `pplug train` (src/cli/train_args.h) and the plug-in
// is built the same way, so the same --seed gives the same initial weights.
//
// Dump folder: llm.safetensors + config.json (HF's), data.safetensors (item_vectors, item_keys when
// the encoder makes keys, query_vectors), plugin.safetensors (initial parameters under their
// module names) and dump.json (configs, examples, orders; written last: its presence means the
// dump is complete).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

#include "cli/cli_common.h"
#include "cli/train_args.h"
#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/lamp_training.h"
#include "pplug/llama_config.h"
#include "pplug/persona_plug.h"
#include "pplug/safetensors.h"
#include "train/epoch_order.h"
#include "train/train_data.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace pplug;

// The reference implements the plain Llama block only.
void require_plain_llama(const LlamaConfig& c) {
  if (!c.rope_scaling_type.empty() || c.qkv_bias || c.o_bias || c.qk_norm || c.sliding_window) {
    throw InvalidArgument("train_dump: the reference covers plain Llama models only (" +
                          c.model_type + " with rope scaling, biases or q/k norms given)");
  }
}

void dump(const CLI::App& app, cli::TrainArgs& a) {
  cli::set_threads(a.threads);
  if (a.dtype != "f32") throw InvalidArgument("train_dump: the reference runs in f32 only");
  if (!a.resume.empty() || !a.dev_questions.empty()) {
    throw InvalidArgument("train_dump: --resume and --dev-* are not part of the reference");
  }
  const lamp::Task task = lamp::parse_task(a.task);
  const auto train = read_labelled_split(a.train_questions, a.train_outputs, task);
  const auto llm = cli::load_cli_model(a.model, a.tokenizer, a.dtype);
  cli::apply_recipe(app, a, llm);  // as cmd_train.cpp resolves it
  const auto encoder = load_sentence_encoder(a.encoder, llm);
  const PluginConfig config = cli::plugin_config(a, task);
  if (config.input_encoder != InputEncoder::kAdapter) {
    throw InvalidArgument("train_dump: --input-encoder copy is not part of the reference");
  }
  PersonaPlug plug(llm, encoder, config, a.options.seed);  // as cmd_train.cpp builds it
  const auto data = pplug::detail::prepare_train_data(plug, train, a.options);

  const fs::path out(a.out);
  fs::create_directories(out);
  fs::remove(out / "dump.json");  // a dump without it is incomplete

  if (!llm.model) {
    throw InvalidArgument("train_dump: " + a.model +
                          " is not a decoder-only model (the PyTorch reference is Llama's)");
  }
  require_plain_llama(llm.model->config());
  save_safetensors((out / "llm.safetensors").string(), llm.model->named_weights());
  save_llama_config(llm.model->config(), (out / "config.json").string());  // HF's names

  std::vector<std::pair<std::string, torch::Tensor>> vectors{{"item_vectors", data.item_vectors},
                                                             {"query_vectors", data.query_vectors}};
  if (data.item_keys.defined()) vectors.emplace_back("item_keys", data.item_keys);
  save_safetensors((out / "data.safetensors").string(), vectors);

  auto& module = pplug::detail::PluginTraining::module(plug);
  std::vector<std::pair<std::string, torch::Tensor>> params;
  json trainable = json::array();
  for (const auto& p : module.named_parameters()) {
    params.emplace_back(p.key(), p.value().detach().clone());
    // The trainer's optimizer gets the parameters that require grad, in this order.
    if (p.value().requires_grad()) trainable.push_back(p.key());
  }
  save_safetensors((out / "plugin.safetensors").string(), params);

  json examples = json::array();
  for (const auto& ex : data.examples) {
    examples.push_back(
        {{"query", ex.query},
         {"items", ex.items},
         {"prompt", ex.prompt},
         {"target", ex.target},
         {"split", pplug::detail::PluginTraining::soft_token_offset(plug, ex.prompt.size())}});
  }
  json orders = json::array();
  for (int e = 0; e < a.options.epochs; ++e) {
    orders.push_back(pplug::detail::epoch_order(data.examples.size(), a.options.seed, e));
  }
  const auto& o = a.options;
  const json doc = {{"plugin",
                     {{"aggregator", to_string(config.aggregator)},
                      {"scores", to_string(config.scores)},
                      {"temperature", config.temperature},
                      {"top_k", config.top_k},
                      {"num_persona_tokens", config.num_persona_tokens},
                      {"use_persona", config.use_persona},
                      {"use_instruction", config.use_instruction},
                      {"encoder_dim", module.config().encoder_dim},
                      {"llm_dim", module.config().llm_dim},
                      {"scale", module.scale()},
                      {"trainable", trainable}}},
                    {"optimizer",
                     {{"lr", o.lr},
                      {"weight_decay", o.weight_decay},
                      {"warmup_ratio", o.warmup_ratio},
                      {"max_grad_norm", o.max_grad_norm},
                      {"batch_size", o.batch_size},
                      {"grad_accum", o.grad_accum},
                      {"epochs", o.epochs}}},
                    {"bos_id", llm.tokenizer->bos_id()},
                    {"examples", examples},
                    {"epoch_orders", orders}};
  pplug::detail::write_file_atomic((out / "dump.json").string(), doc.dump() + "\n");
  std::cout << json{{"dump", a.out}, {"examples", data.examples.size()}}.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Dump what `pplug train` starts from, for bench/train_reference.py"};
  cli::TrainArgs args;
  cli::add_train_options(&app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    dump(app, args);
  } catch (const std::exception& e) {
    std::cerr << "train_dump: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
