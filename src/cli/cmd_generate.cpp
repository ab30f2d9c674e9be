// pplug generate: continue a prompt with a frozen model, or, with --plugin, answer a task input
// personalized for a user (history embedded on the fly with --history, or loaded with --user).
// --chat formats the prompt as a user message with the model's chat template (docs/chat.md).
#include <cmath>
#include <iostream>
#include <memory>

#include "cli/cli_chat.h"
#include "cli/cli_common.h"
#include "cli/cli_plugin.h"
#include "cli/commands.h"
#include "pplug/chat_prompt.h"
#include "pplug/error.h"
#include "pplug/generation.h"

namespace pplug::cli {
namespace {

struct GenerateArgs {
  std::string model, tokenizer, prompt, dtype = "f32";
  GenerationOptions gen;
  int threads = 0;
  bool print_ids = false;
  bool stream = false;
  std::vector<std::string> stop;
  // Chat (--chat): the template named, or detected from the model's files when empty.
  bool chat = false, no_think = false;
  std::string system, chat_template;
  // Personalization (all empty = plain generation).
  std::string plugin, encoder, history, id, user;
};

// The user of a personalized run and, for a LaMP question picked with --id, its input.
UserEmbedding personal_user(const GenerateArgs& a, const PersonaPlug& plug, std::string* input) {
  if (!a.history.empty()) {
    HistoryFile history = read_history_file(a.history, a.id, plug.config().task);
    *input = std::move(history.input);
    return plug.embed_user(history.items);
  }
  if (!a.user.empty()) return UserEmbedding::load(a.user);
  throw InvalidArgument("--plugin " + a.plugin +
                        ": give the user as --history FILE or --user FILE");
}

void run_generate(const GenerateArgs& a) {
  if (a.prompt.empty() && (a.plugin.empty() || a.id.empty())) {
    // Only a personalized run on a LaMP question (--history with --id) has a default prompt.
    throw CLI::RequiredError("--prompt");
  }
  set_threads(a.threads);
  const auto loaded = load_cli_model(a.model, a.tokenizer, a.dtype);
  GenerationOptions options = a.gen;
  options.stop_strings = a.stop;
  if (a.stream) {
    options.on_text = [](size_t, const std::string& delta) {
      std::cout << delta << std::flush;
      return true;
    };
  }
  ChatTemplate chat;
  if (a.chat) chat = cli_chat_template(loaded, a.model, a.chat_template, !a.no_think);
  GenerationResult result;
  if (a.plugin.empty()) {
    const auto model = language_model_of(loaded);
    Generator generator(model, loaded.tokenizer);
    if (a.chat && model->decoder_only() != nullptr) {
      // As ids: the BOS goes first only when the template writes one (ChatML/Qwen write none).
      const auto ids =
          chat_prompt_ids(chat, *loaded.tokenizer, cli_conversation(a.system, a.prompt));
      result = generator.generate_ids({ids}, options).front();
    } else {
      // An encoder-decoder frames the rendered text its own way (T5: text </s>).
      result = generator.generate(
          a.chat ? chat.render(cli_conversation(a.system, a.prompt)) : a.prompt, options);
    }
  } else {
    const auto plug = load_cli_plugin(a.plugin, loaded, a.encoder);
    std::string question_input;
    const UserEmbedding user = personal_user(a, *plug, &question_input);
    std::string input = a.prompt.empty() ? question_input : a.prompt;
    // The plug-in puts [BOS] and the soft tokens before the rendered conversation.
    if (a.chat) input = chat.render(cli_conversation(a.system, input));
    result = plug->generate(user, input, options);
  }
  if (a.chat && !cut_at_end_of_turn(chat, *loaded.tokenizer, &result) && a.stream) {
    std::cerr << "pplug: " << chat.end_of_turn() << " is not the tokenizer's EOS: a streamed reply "
              << "may run past the end of its turn (without --stream it is cut there)\n";
  }
  if (!a.stream) std::cout << result.text;
  std::cout << "\n";
  if (a.print_ids) {
    // The prompt as fed ([BOS] first, or T5's </s> last; personalized runs leave out the soft
    // tokens, which have no ids), then the generated ids.
    std::string line;
    for (int id : result.prompt_ids) line += std::to_string(id) + " ";
    for (int id : result.generated_ids) line += std::to_string(id) + " ";
    if (!line.empty()) line.pop_back();
    std::cout << line << "\n";
  }
}

}  // namespace

void register_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand(
      "generate", "Continue a prompt with a frozen LLM (personalized with --plugin)");
  cmd->add_option("--model", args->model,
                  "HF folder (Llama family or T5), GGUF, llama2.c .bin, or a folder with one .bin "
                  "and one .model")
      ->required();
  cmd->add_option("--prompt", args->prompt,
                  "Prompt text (BOS is added); with --plugin the task input (default: the input "
                  "of question --id)");
  cmd->add_option("--tokenizer", args->tokenizer,
                  std::string(kTokenizerKinds) + " (default: beside --model)");
  cmd->add_option("--max-new-tokens", args->gen.max_new_tokens, "Tokens to generate at most")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxNewTokens));
  cmd->add_option("--temperature", args->gen.temperature,
                  "0 = greedy; > 0 samples (tiny values approach greedy, computed stably)")
      ->capture_default_str()
      ->check(real_in(0, HUGE_VAL));
  cmd->add_option("--top-k", args->gen.top_k, "Sample among the k best tokens (0 = all)")
      ->check(int_in(0, limits::kMaxTopK));
  cmd->add_option("--top-p", args->gen.top_p, "Nucleus sampling mass (1 = off)")
      ->check(real_in(0, 1, /*lo_open=*/true));
  cmd->add_option("--beams", args->gen.num_beams, "Beam search width (1 = off)")
      ->check(int_in(1, limits::kMaxBeams));
  cmd->add_option("--seed", args->gen.seed, "Sampling seed");
  cmd->add_option("--stop", args->stop, "Stop string (repeatable)");
  add_threads_option(cmd, args->threads);
  cmd->add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  cmd->add_flag("--print-ids", args->print_ids,
                "Print all token ids (BOS, prompt, generated) as the last line");
  cmd->add_flag("--stream", args->stream, "Print text as it is generated");
  auto* chat = cmd->add_flag("--chat", args->chat,
                             "Format --prompt as a user message with the model's chat template "
                             "(tokenizer_config.json's chat_template or a GGUF's "
                             "tokenizer.chat_template)");
  cmd->add_option("--system", args->system, "With --chat: a system message first")->needs(chat);
  cmd->add_option("--chat-template", args->chat_template,
                  "With --chat: the format instead of the detected one: llama3, chatml, qwen3, "
                  "mistral (= mistral-v3), mistral-v0, mistral-v1, mistral-v3-tekken, llama2, "
                  "gemma, gemma2, phi3, or plain (base models)")
      ->needs(chat);
  cmd->add_flag("--no-think", args->no_think,
                "With --chat and Qwen3: answer without reasoning (enable_thinking=false)")
      ->needs(chat);
  auto* plugin = cmd->add_option("--plugin", args->plugin,
                                 "Plug-in folder: personalize the answer for a user");
  auto* encoder = cmd->add_option("--encoder", args->encoder,
                                  "History encoder of the plug-in: HF BERT folder (default: the "
                                  "LLM itself)");
  auto* history = cmd->add_option(
      "--history", args->history,
      "The user's history: JSON array of profile items, or a LaMP questions file (with --id)");
  auto* id = cmd->add_option("--id", args->id, "Question id whose profile is the history");
  auto* user = cmd->add_option("--user", args->user, "A user embedding saved by `pplug embed`");
  encoder->needs(plugin);
  history->needs(plugin);
  user->needs(plugin);
  id->needs(history);
  history->excludes(user);
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace pplug::cli
