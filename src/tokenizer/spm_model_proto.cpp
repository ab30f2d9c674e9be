#include "tokenizer/spm_model_proto.h"

#include <cstdint>
#include <cstring>
#include <string_view>

#include "pplug/error.h"

namespace pplug::detail {
namespace {

// Protocol buffers' wire types.
constexpr int kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5;

// One message's fields in order; every read is bounds-checked.
class WireReader {
 public:
  WireReader(std::string_view data, const std::string& source, const char* message)
      : data_(data), source_(source), message_(message) {}

  bool done() const { return pos_ >= data_.size(); }

  // The next field's number and wire type.
  void next(int* field, int* wire) {
    const uint64_t key = varint();
    *field = static_cast<int>(key >> 3);
    *wire = static_cast<int>(key & 7);
    if (*field == 0) fail("field number 0");
  }
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail("truncated varint");
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("varint longer than 10 bytes");
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (n > data_.size() - pos_) fail("length " + std::to_string(n) + " runs past the end");
    const std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  float fixed32_float() {
    if (data_.size() - pos_ < 4) fail("truncated float");
    float f;
    std::memcpy(&f, data_.data() + pos_, 4);
    pos_ += 4;
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case kVarint:
        varint();
        return;
      case kFixed64:
        if (data_.size() - pos_ < 8) fail("truncated fixed64");
        pos_ += 8;
        return;
      case kBytes:
        bytes();
        return;
      case kFixed32:
        if (data_.size() - pos_ < 4) fail("truncated fixed32");
        pos_ += 4;
        return;
      default:
        fail("unsupported wire type " + std::to_string(wire));
    }
  }
  void expect(int wire, int want, int field) {
    if (wire != want) {
      fail("field " + std::to_string(field) + " has wire type " + std::to_string(wire) +
           ", expected " + std::to_string(want));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(source_ + ": not a SentencePiece model (" + message_ + " at byte " +
                      std::to_string(pos_) + ": " + what + ")");
  }

 private:
  std::string_view data_;
  const std::string& source_;
  const char* message_;
  size_t pos_ = 0;
};

int as_int32(uint64_t v) {
  return static_cast<int>(static_cast<int32_t>(static_cast<uint32_t>(v)));
}

SpmPiece parse_piece(std::string_view data, const std::string& source) {
  WireReader r(data, source, "SentencePiece");
  SpmPiece p;
  while (!r.done()) {
    int field = 0, wire = 0;
    r.next(&field, &wire);
    if (field == 1) {
      r.expect(wire, kBytes, field);
      p.piece = std::string(r.bytes());
    } else if (field == 2) {
      r.expect(wire, kFixed32, field);
      p.score = r.fixed32_float();
    } else if (field == 3) {
      r.expect(wire, kVarint, field);
      const int type = as_int32(r.varint());
      if (type < 1 || type > 6) r.fail("piece type " + std::to_string(type));
      p.type = static_cast<SpmPieceType>(type);
    } else {
      r.skip(wire);
    }
  }
  return p;
}

void parse_trainer(std::string_view data, const std::string& source, SpmModelSpec& spec) {
  WireReader r(data, source, "TrainerSpec");
  while (!r.done()) {
    int field = 0, wire = 0;
    r.next(&field, &wire);
    switch (field) {
      case 3:
        r.expect(wire, kVarint, field);
        spec.model_type = as_int32(r.varint());
        break;
      case 24:
        r.expect(wire, kVarint, field);
        spec.treat_whitespace_as_suffix = r.varint() != 0;
        break;
      case 35:
        r.expect(wire, kVarint, field);
        spec.byte_fallback = r.varint() != 0;
        break;
      case 40:
      case 41:
      case 42:
      case 43: {
        r.expect(wire, kVarint, field);
        const int id = as_int32(r.varint());
        int* ids[] = {&spec.unk_id, &spec.bos_id, &spec.eos_id, &spec.pad_id};
        *ids[field - 40] = id;
        break;
      }
      case 45:
      case 46:
      case 47:
      case 48: {
        r.expect(wire, kBytes, field);
        std::string* pieces[] = {&spec.unk_piece, &spec.bos_piece, &spec.eos_piece,
                                 &spec.pad_piece};
        *pieces[field - 45] = std::string(r.bytes());
        break;
      }
      default:
        r.skip(wire);
    }
  }
}

void parse_normalizer(std::string_view data, const std::string& source, SpmModelSpec& spec) {
  WireReader r(data, source, "NormalizerSpec");
  while (!r.done()) {
    int field = 0, wire = 0;
    r.next(&field, &wire);
    switch (field) {
      case 1:
        r.expect(wire, kBytes, field);
        spec.normalizer_name = std::string(r.bytes());
        break;
      case 2:
        r.expect(wire, kBytes, field);
        spec.precompiled_charsmap = std::string(r.bytes());
        break;
      case 3:
      case 4:
      case 5: {
        r.expect(wire, kVarint, field);
        bool* flags[] = {&spec.add_dummy_prefix, &spec.remove_extra_whitespaces,
                         &spec.escape_whitespaces};
        *flags[field - 3] = r.varint() != 0;
        break;
      }
      default:
        r.skip(wire);
    }
  }
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_key(std::string& out, int field, int wire) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire));
}
void put_bytes(std::string& out, int field, std::string_view bytes) {
  put_key(out, field, kBytes);
  put_varint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}
void put_int(std::string& out, int field, int64_t v) {  // int32 and enums: negatives sign-extend
  put_key(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(v));
}
void put_float(std::string& out, int field, float f) {
  put_key(out, field, kFixed32);
  char raw[4];
  std::memcpy(raw, &f, 4);
  out.append(raw, 4);
}

}  // namespace

SpmModelSpec parse_spm_model(const std::string& bytes, const std::string& source) {
  SpmModelSpec spec;
  WireReader r(bytes, source, "ModelProto");
  bool trainer_seen = false;
  while (!r.done()) {
    int field = 0, wire = 0;
    r.next(&field, &wire);
    if (field == 1) {
      r.expect(wire, kBytes, field);
      spec.pieces.push_back(parse_piece(r.bytes(), source));
    } else if (field == 2) {
      r.expect(wire, kBytes, field);
      parse_trainer(r.bytes(), source, spec);
      trainer_seen = true;
    } else if (field == 3) {
      r.expect(wire, kBytes, field);
      parse_normalizer(r.bytes(), source, spec);
    } else {
      r.skip(wire);
    }
  }
  if (spec.pieces.empty()) r.fail("no pieces");
  if (!trainer_seen) r.fail("no trainer_spec");
  return spec;
}

std::string serialize_spm_model(const SpmModelSpec& spec) {
  std::string out;
  for (const auto& p : spec.pieces) {
    std::string piece;
    put_bytes(piece, 1, p.piece);
    put_float(piece, 2, p.score);
    put_int(piece, 3, static_cast<int>(p.type));
    put_bytes(out, 1, piece);
  }
  std::string trainer;
  put_int(trainer, 3, spec.model_type);
  put_int(trainer, 4, static_cast<int64_t>(spec.pieces.size()));  // vocab_size
  put_int(trainer, 24, spec.treat_whitespace_as_suffix ? 1 : 0);
  put_int(trainer, 35, spec.byte_fallback ? 1 : 0);
  put_int(trainer, 40, spec.unk_id);
  put_int(trainer, 41, spec.bos_id);
  put_int(trainer, 42, spec.eos_id);
  put_int(trainer, 43, spec.pad_id);
  put_bytes(trainer, 45, spec.unk_piece);
  put_bytes(trainer, 46, spec.bos_piece);
  put_bytes(trainer, 47, spec.eos_piece);
  put_bytes(trainer, 48, spec.pad_piece);
  put_bytes(out, 2, trainer);
  std::string normalizer;
  put_bytes(normalizer, 1, spec.normalizer_name);
  if (!spec.precompiled_charsmap.empty()) put_bytes(normalizer, 2, spec.precompiled_charsmap);
  put_int(normalizer, 3, spec.add_dummy_prefix ? 1 : 0);
  put_int(normalizer, 4, spec.remove_extra_whitespaces ? 1 : 0);
  put_int(normalizer, 5, spec.escape_whitespaces ? 1 : 0);
  put_bytes(out, 3, normalizer);
  return out;
}

}  // namespace pplug::detail
