// Configuration of a Persona-Plug plug-in (stored in its checkpoint manifest).
#pragma once

#include <cstdint>
#include <string>

namespace pplug {

// How history items are weighted against the current input.
enum class AggregatorKind {
  kAttention,           // softmax(cos(x, h_i) / T) with T fixed (reference: T = 1)
  kLearnedTemperature,  // the same with T learned (starts at `temperature`)
  kMean,                // uniform weights (the paper's ablation)
};

// How the aggregator turns the input-item cosines into attention logits (before / T).
enum class AttentionScores {
  kCosine,        // the cosine itself (the reference). The cosines of one LLM's sentence vectors
                  // crowd into a narrow band near 1, so at T = 1 the weights are near uniform
  kStandardized,  // the cosines standardized over the user's items (minus their mean, over their
                  // standard deviation): only their order and spread count, so T means the same
                  // for every encoder and user, and a T below 1 selects
};

// Where the soft tokens enter the LLM input.
enum class SoftTokenPlacement {
  kAfterBos,      // [BOS] [I] [P] input answer_prefix (the reference's placement)
  kBeforeAnswer,  // [BOS] input [I] [P] answer_prefix: next to the answer, which helps small
                  // LLMs whose attention over a long prompt dilutes tokens far from the answer
};

// What the aggregator compares the history items with (the "input" of input-aware aggregation).
enum class QuerySource {
  kEncoder,  // the history encoder's vector of the task input's core text (the reference): one
             // extra encoder pass per query
  kPrompt,   // the frozen LLM's own reading of the prompt, pooled like the history items: the
             // prompt runs through the LLM up to the soft tokens, its final hidden states give
             // the query, and the same pass goes on into generation, so a query costs no extra
             // forward. Needs placement kBeforeAnswer and the LLM itself as history encoder.
};

// The input encoder: the frozen history encoder with a small trainable adapter, or a trainable
// copy of it (the reference fine-tunes a full copy of its BGE encoder for the input).
enum class InputEncoder {
  kAdapter,  // frozen encoder + residual Linear(d_e, d_e) adapter (cheap; input vectors of the
             // training set are computed once)
  kCopy,     // a full trainable copy of a BERT-family history encoder, saved in the plug-in
             // (its weights, e.g. 110M for BGE-base); every training step runs it with gradients
};

// The most persona soft tokens a plug-in may have.
inline constexpr int kMaxPersonaTokens = 256;

struct PluginConfig {
  std::string task;             // LaMP task name it serves ("LaMP_2"); "" = plain text
  int num_persona_tokens = 1;   // persona soft tokens P (reference: 1)
  bool use_persona = true;      // false = ablation "persona token off"
  bool use_instruction = true;  // false = ablation "instruction token off"
  AggregatorKind aggregator = AggregatorKind::kAttention;
  double temperature = 1.0;                           // T of the attention (initial T when learned)
  AttentionScores scores = AttentionScores::kCosine;  // see AttentionScores
  int top_k = 0;          // only the k most similar items are aggregated; 0 = all
  int max_history = 512;  // the most recent items kept per user (reference: 512)
  // History item text template, "{field}" placeholders; "" = the task's default, which includes
  // the user's past labels (LaMP-2 tag, LaMP-3 score).
  std::string item_template;
  // Text put between the task input and the answer (decoder-only LLMs need a cue to answer).
  std::string answer_prefix = "\nAnswer:";
  SoftTokenPlacement placement = SoftTokenPlacement::kAfterBos;  // see SoftTokenPlacement
  // Targets end with the tokenizer's EOS, so the model learns to stop. Off for LLMs that never
  // saw EOS in pretraining (llama2.c's TinyStories models): there the EOS term dominates the loss.
  bool end_with_eos = true;
  // LLM tokens of the task input at most; longer inputs keep their end, where every LaMP
  // template puts the content (the instruction comes first). Reference: 256 FlanT5 tokens.
  int max_input_tokens = 384;
  QuerySource query_source = QuerySource::kEncoder;     // see QuerySource
  InputEncoder input_encoder = InputEncoder::kAdapter;  // see InputEncoder
  // Filled in from the models when the plug-in is created (checked when it is loaded):
  int64_t encoder_dim = 0;  // d_e
  int64_t llm_dim = 0;      // d
};

const char* to_string(AggregatorKind kind);
const char* to_string(SoftTokenPlacement placement);
// "after-bos" | "before-answer"; throws InvalidArgument otherwise.
SoftTokenPlacement parse_placement(const std::string& name);
const char* to_string(InputEncoder kind);
// "adapter" | "copy"; throws InvalidArgument otherwise.
InputEncoder parse_input_encoder(const std::string& name);
const char* to_string(QuerySource source);
// "encoder" | "prompt"; throws InvalidArgument otherwise.
QuerySource parse_query_source(const std::string& name);
const char* to_string(AttentionScores scores);
// "cosine" | "standardized"; throws InvalidArgument otherwise.
AttentionScores parse_attention_scores(const std::string& name);
// "attention" | "learned-temperature" | "mean"; throws InvalidArgument otherwise.
AggregatorKind parse_aggregator(const std::string& name);

}  // namespace pplug
