// pplug tokenize: print the token ids of a text, with the LLM's tokenizer (any file
// pplug::Tokenizer reads) or a WordPiece vocab.txt (a BERT encoder's tokenizer).
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "pplug/error.h"
#include "pplug/tokenizer.h"
#include "pplug/wordpiece.h"

namespace pplug::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;  // .model, tokenizer.json (or its folder), .gguf ("" = not given)
  std::string vocab;      // WordPiece vocab.txt ("" = not given)
  std::string text;       // the text, when has_text
  bool has_text = false;  // false = read the whole of standard input
  bool bos = false;       // prepend BOS (--tokenizer only)
};

std::string read_stdin() {
  return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
}

void run_tokenize(const TokenizeArgs& a) {
  if (a.tokenizer.empty() == a.vocab.empty()) {
    throw InvalidArgument(
        "tokenize: give exactly one of --tokenizer (.model, tokenizer.json or .gguf) or --vocab "
        "vocab.txt");
  }
  if (a.bos && !a.vocab.empty()) {
    throw InvalidArgument("tokenize: --bos applies to --tokenizer only");
  }
  const std::string text = a.has_text ? a.text : read_stdin();
  std::vector<int> ids;
  if (!a.tokenizer.empty()) {
    ids = Tokenizer(a.tokenizer).encode(text, a.bos);
  } else {
    ids = WordPieceTokenizer(a.vocab).encode(text);
  }
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
  }
  std::cout << line << "\n";
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand(
      "tokenize",
      "Print the token ids of a text (the LLM's tokenizer or WordPiece), space separated");
  auto* spm = cmd->add_option("--tokenizer", args->tokenizer, kTokenizerKinds);
  auto* vocab = cmd->add_option("--vocab", args->vocab,
                                "WordPiece vocab.txt (uncased BERT; no [CLS]/[SEP] added)");
  spm->excludes(vocab);
  auto* text = cmd->add_option("--text", args->text,
                               "Text to tokenize (default: all of standard input, as is)");
  cmd->add_flag("--bos", args->bos, "Prepend BOS (--tokenizer only)");
  cmd->callback([args, text] {
    args->has_text = text->count() > 0;
    run_tokenize(*args);
  });
}

}  // namespace pplug::cli
