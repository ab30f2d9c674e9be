#include "tokenizer/hf/hf_tokenizer.h"

#include <filesystem>

#include "pplug/error.h"
#include "text/utf8.h"
#include "tokenizer/hf/hf_tokenizer_impl.h"
#include "util/file_io.h"

namespace pplug::hf {

std::unique_ptr<HfTokenizer::Impl> parse_tokenizer_json(const std::string& text,
                                                        const std::string& file);
std::unique_ptr<HfTokenizer::Impl> parse_gguf_vocab(const std::string& path);  // gguf_vocab.cpp

int HfTokenizer::Impl::lookup(const std::string& piece) const {
  const auto added = added_ids.find(piece);
  if (added != added_ids.end()) return added->second;
  const auto it = model->vocab().find(piece);
  return it == model->vocab().end() ? -1 : it->second;
}

HfTokenizer::HfTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HfTokenizer::HfTokenizer(HfTokenizer&&) noexcept = default;
HfTokenizer& HfTokenizer::operator=(HfTokenizer&&) noexcept = default;
HfTokenizer::~HfTokenizer() = default;

HfTokenizer HfTokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string file =
      fs::is_directory(path, ec) ? (fs::path(path) / "tokenizer.json").string() : path;
  if (fs::path(file).extension() == ".gguf") return HfTokenizer(parse_gguf_vocab(file));
  auto impl = parse_tokenizer_json(detail::read_file(file), file);
  resolve_special_ids(*impl, fs::path(file).parent_path().string());
  return HfTokenizer(std::move(impl));
}

HfTokenizer HfTokenizer::from_json(const std::string& json_text, const std::string& name) {
  auto impl = parse_tokenizer_json(json_text, name);
  resolve_special_ids(*impl, "");
  return HfTokenizer(std::move(impl));
}

std::vector<int> HfTokenizer::encode(const std::string& text, bool add_bos, bool add_eos) const {
  const Impl& m = *impl_;
  std::vector<int> ids;
  if (add_bos && m.bos >= 0) ids.push_back(m.bos);
  const std::string input = detail::sanitize_utf8(text);
  std::vector<Segment> raw;
  if (m.raw_added.empty()) {
    raw.push_back({input, -1, true});
  } else {
    m.raw_added.split(input, true, raw);
  }
  std::vector<Segment> segments;
  for (Segment& segment : raw) {
    if (segment.id >= 0) {
      segments.push_back(std::move(segment));
      continue;
    }
    if (m.normalizer) m.normalizer->normalize(segment.text);
    if (m.normalized_added.empty()) {
      segments.push_back(std::move(segment));
    } else {
      m.normalized_added.split(segment.text, segment.at_start, segments);
    }
  }
  std::vector<Piece> pieces;
  for (const Segment& segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    if (segment.text.empty()) continue;
    pieces.assign(1, Piece{segment.text, segment.at_start});
    if (m.pre_tokenizer) m.pre_tokenizer->pre_tokenize(pieces);
    for (const Piece& piece : pieces) m.model->tokenize(piece.text, ids);
  }
  if (add_eos && m.eos >= 0) ids.push_back(m.eos);
  return ids;
}

std::string HfTokenizer::decode(const std::vector<int>& ids, bool skip_special) const {
  // As HF tokenizers: the decoder sees the runs of model tokens between added tokens; an added
  // token contributes its content verbatim.
  const Impl& m = *impl_;
  std::string text;
  std::vector<std::string> chunk;
  const auto flush = [&] {
    if (m.decoder) {
      m.decoder->decode_chain(chunk);
      for (const std::string& t : chunk) text += t;
    } else {
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (i > 0) text += ' ';
        text += chunk[i];
      }
    }
    chunk.clear();
  };
  for (int id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw InvalidArgument(m.path + ": cannot decode token id " + std::to_string(id) +
                            " (vocabulary size " + std::to_string(vocab_size()) + ")");
    }
    const auto index = static_cast<std::size_t>(id);
    if (m.pieces[index].empty()) continue;
    if (m.added[index] == 0) {
      chunk.push_back(m.pieces[index]);
      continue;
    }
    if (skip_special && m.special[index] != 0) continue;
    flush();
    if (!text.empty() && !m.decoder) text += ' ';
    text += m.pieces[index];
  }
  flush();
  return text;
}

int HfTokenizer::vocab_size() const { return static_cast<int>(impl_->pieces.size()); }
int HfTokenizer::bos_id() const { return impl_->bos; }
int HfTokenizer::eos_id() const { return impl_->eos; }
int HfTokenizer::unk_id() const { return impl_->unk; }
int HfTokenizer::pad_id() const { return impl_->pad; }
bool HfTokenizer::adds_bos_by_default() const { return impl_->add_bos_default; }
const std::string& HfTokenizer::path() const { return impl_->path; }

std::string HfTokenizer::id_to_piece(int id) const {
  if (id < 0 || id >= vocab_size()) {
    throw InvalidArgument(impl_->path + ": token id " + std::to_string(id) +
                          " out of range (vocabulary size " + std::to_string(vocab_size()) + ")");
  }
  return impl_->pieces[static_cast<std::size_t>(id)];
}

int HfTokenizer::piece_to_id(const std::string& piece) const {
  const int id = impl_->lookup(piece);
  return id < 0 ? impl_->unk : id;
}

bool HfTokenizer::is_special(int id) const {
  return id >= 0 && id < vocab_size() && impl_->special[static_cast<std::size_t>(id)] != 0;
}

}  // namespace pplug::hf
