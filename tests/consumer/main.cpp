// Links the installed pplug and tokenizes with the real tokenizer beside libtorch.
#include <pplug/llama_config.h>
#include <pplug/tokenizer.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  pplug::Tokenizer tok(argv[1]);
  for (int id : tok.encode("Once upon a time")) std::cout << id << " ";
  std::cout << "\n";
  return 0;
}
