// Dumps what llama.cpp computes with a decoder GGUF for given prompt ids, as JSON: the logits at
// the prompt's last position and greedy ids (each fed back, EOS included). The reference of
// tests/models/llama_cpp_families_test.cpp. Not part of pplug's build: it is compiled against a
// llama.cpp tree (public API only), as tests/models/data/llama_cpp_families/README.md says.
//
//   decoder_dump MODEL.gguf "ID ID ID ..." N_GREEDY > llama_cpp.json
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "llama.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: decoder_dump MODEL.gguf \"ID ID ...\" N_GREEDY\n");
    return 2;
  }
  std::vector<llama_token> ids;
  std::istringstream in(argv[2]);
  for (int id; in >> id;) ids.push_back(id);
  const int n_greedy = atoi(argv[3]);
  llama_backend_init();
  auto mp = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (model == nullptr) return 1;
  auto cp = llama_context_default_params();
  cp.n_ctx = 256;
  cp.n_batch = 256;
  cp.n_threads = 1;
  cp.n_threads_batch = 1;
  llama_context* ctx = llama_init_from_model(model, cp);
  const int V = llama_vocab_n_tokens(llama_model_get_vocab(model));
  if (llama_decode(ctx, llama_batch_get_one(ids.data(), static_cast<int>(ids.size()))) != 0) {
    return 1;
  }
  printf("{\"prompt_ids\": [");
  for (size_t i = 0; i < ids.size(); ++i) printf("%s%d", i ? ", " : "", ids[i]);
  printf("],\n \"last_logits\": [");
  const float* logits = llama_get_logits_ith(ctx, -1);
  for (int v = 0; v < V; ++v) printf("%s%.7g", v ? ", " : "", logits[v]);
  printf("],\n \"greedy_ids\": [");
  for (int s = 0; s < n_greedy; ++s) {
    int best = 0;
    for (int v = 1; v < V; ++v) {
      if (logits[v] > logits[best]) best = v;
    }
    printf("%s%d", s ? ", " : "", best);
    llama_token next = best;
    if (llama_decode(ctx, llama_batch_get_one(&next, 1)) != 0) return 1;
    logits = llama_get_logits_ith(ctx, -1);
  }
  printf("]}\n");
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
