// Configuration of a Llama-family decoder. Field names mirror Hugging Face's LlamaConfig
// (config.json), so a config file maps onto this struct one to one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pplug {

struct LlamaConfig {
  int64_t hidden_size = 0;              // d: width of the residual stream
  int64_t intermediate_size = 0;        // SwiGLU hidden width
  int64_t num_hidden_layers = 0;        // decoder blocks
  int64_t num_attention_heads = 0;      // query heads
  int64_t num_key_value_heads = 0;      // key/value heads (grouped-query attention); divides heads
  int64_t vocab_size = 0;               // rows of the token embedding
  int64_t max_position_embeddings = 0;  // longest sequence (prompt + generated + soft tokens)
  double rms_norm_eps = 1e-5;           // RMSNorm epsilon
  double rope_theta = 10000.0;          // RoPE base
  bool tie_word_embeddings = false;     // output head shares the token embedding
  int64_t bos_token_id = 1;             // begin-of-sequence id
  int64_t eos_token_id = 2;             // end-of-sequence id

  // The family's variations (HF model_type "llama", "mistral", "qwen2", "qwen3", "gemma",
  // "phi3"): each is a field below, not a code path of its own. Gemma's RMSNorm scales by
  // (1 + w): pplug holds the multiplier itself, so Gemma norm weights are 1 + w in memory and in
  // GGUF files (as llama.cpp stores them) and w only in HF files, converted on read and write.
  std::string model_type = "llama";
  int64_t explicit_head_dim = 0;  // HF "head_dim" (Qwen3); 0: hidden_size / num_attention_heads
  bool qkv_bias = false;          // q/k/v projections have biases (Qwen2; Llama's attention_bias)
  bool o_bias = false;            // the output projection has one too (Llama's attention_bias)
  bool qk_norm = false;           // RMSNorm over each q and k head before RoPE (Qwen3)
  // RoPE scaling (HF rope_scaling): "" none, "linear" (positions / factor) or "llama3"
  // (Llama 3.1's frequency-dependent scaling).
  std::string rope_scaling_type;
  double rope_scaling_factor = 1.0;
  double rope_low_freq_factor = 1.0;                     // llama3
  double rope_high_freq_factor = 4.0;                    // llama3
  int64_t rope_original_max_position_embeddings = 8192;  // llama3
  // Mistral's sliding-window attention: positions further back than this are not attended to.
  // 0: none. pplug refuses sequences longer than the window rather than mask them.
  int64_t sliding_window = 0;
  // The MLP's activation on the gate: "silu" (SwiGLU), "gelu_pytorch_tanh" (GeGLU with the tanh
  // approximation, Gemma) or "gelu" (exact erf GELU).
  std::string hidden_act = "silu";
  // Input embeddings (token rows and soft tokens alike) are multiplied by this before the first
  // layer: sqrt(hidden_size) for Gemma, 1 otherwise.
  double embedding_multiplier = 1.0;
  // Per rotated pair i (head_dim / 2 of them), RoPE's frequency is divided by factor i: the
  // `rope_freqs` tensor llama.cpp's converter writes for Llama 3.1+ instead of rope_scaling
  // fields. Empty: none. Applied on top of rope_scaling_type (which is then empty).
  std::vector<float> rope_freq_factors;

  int64_t head_dim() const {
    return explicit_head_dim > 0 ? explicit_head_dim : hidden_size / num_attention_heads;
  }
  int64_t kv_dim() const { return head_dim() * num_key_value_heads; }
  int64_t q_dim() const { return head_dim() * num_attention_heads; }
  // What RoPE divides each pair's base frequency theta^(-2i/hd) by (head_dim / 2 values, all 1
  // without scaling): rope_freq_factors, or what rope_scaling's linear or llama3 rule gives.
  std::vector<double> rope_frequency_divisors() const;
  // Sets the fields model_type implies for a new model of that family (what its HF config
  // would give): Qwen2's q/k/v biases, Qwen3's q/k norms, Gemma's GELU, embedding scale and tied
  // head. Sizes are left alone.
  void set_family_defaults();
  // True for the HF model_type values above.
  static bool is_supported_model_type(const std::string& model_type);
  // Throws InvalidArgument naming `source` and the field when a value is inconsistent.
  void validate(const std::string& source) const;
};

// Reads an HF config.json; throws FormatError naming the file and field when a required
// field is missing or has the wrong type.
LlamaConfig load_llama_config(const std::string& config_json_path);
// Writes an HF-compatible config.json (LlamaForCausalLM) atomically.
void save_llama_config(const LlamaConfig& config, const std::string& config_json_path);

}  // namespace pplug
