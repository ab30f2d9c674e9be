// Dumps llama.cpp's T5 computation for a prompt as JSON: encoder input ids, encoder output
// (final normed states), decoder logits of the first steps and greedy ids (fed back past EOS).
// The reference of tests/models/t5_llama_cpp_test.cpp. Not part of pplug's build: it is compiled
// against a llama.cpp tree (its internal llama-context.h included), as
// tests/models/data/t5_llama_cpp/README.md says.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "llama-context.h"  // embd_enc: the encoder output is not exposed by the public API
#include "llama.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: t5_dump MODEL.gguf PROMPT N_STEPS N_LOGIT_STEPS\n");
    return 2;
  }
  const int n_steps = atoi(argv[3]), n_logit_steps = atoi(argv[4]);
  llama_backend_init();
  auto mp = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  auto cp = llama_context_default_params();
  cp.n_ctx = 256;
  cp.n_batch = 256;
  cp.n_threads = 1;
  cp.n_threads_batch = 1;
  llama_context* ctx = llama_init_from_model(model, cp);
  const llama_vocab* vocab = llama_model_get_vocab(model);
  std::vector<llama_token> ids(256);
  const int n = llama_tokenize(vocab, argv[2], strlen(argv[2]), ids.data(), 256, true, false);
  ids.resize(n);
  if (llama_encode(ctx, llama_batch_get_one(ids.data(), n)) != 0) return 1;
  const int d = llama_model_n_embd(model);
  const std::vector<float> enc = ctx->embd_enc;
  const int V = llama_vocab_n_tokens(vocab);
  printf("{\"input_ids\": [");
  for (int i = 0; i < n; ++i) printf("%s%d", i ? ", " : "", ids[i]);
  printf("],\n \"d_model\": %d,\n \"encoder_output\": [", d);
  for (size_t i = 0; i < enc.size(); ++i) printf("%s%.7g", i ? ", " : "", enc[i]);
  printf("],\n \"vocab\": %d,\n \"decoder_logits\": [", V);
  llama_token next = llama_model_decoder_start_token(model);
  std::vector<int> greedy;
  for (int s = 0; s < n_steps; ++s) {
    if (llama_decode(ctx, llama_batch_get_one(&next, 1)) != 0) return 1;
    const float* logits = llama_get_logits_ith(ctx, -1);
    if (s < n_logit_steps) {
      printf("%s[", s ? ",\n  " : "");
      for (int v = 0; v < V; ++v) printf("%s%.7g", v ? ", " : "", logits[v]);
      printf("]");
    }
    int best = 0;
    for (int v = 1; v < V; ++v)
      if (logits[v] > logits[best]) best = v;
    greedy.push_back(best);
    next = best;
  }
  printf("],\n \"greedy_ids\": [");
  for (size_t i = 0; i < greedy.size(); ++i) printf("%s%d", i ? ", " : "", greedy[i]);
  printf("]}\n");
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
