#include "format/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

#include "pplug/error.h"
#include "util/checked_math.h"

namespace pplug::detail {
namespace {

// A header larger than this is certainly not a real safetensors header; refusing it keeps a
// lying length field from making us allocate gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

size_t safetensors_element_size(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, uint64_t size,
                                           const std::string& source) {
  auto fail = [&](const std::string& what) { throw FormatError(source + ": " + what); };
  if (size < 8) fail(std::to_string(size) + " bytes, too short for a header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > size - 8) {
    fail("header length " + std::to_string(header_len) + " is larger than the file (" +
         std::to_string(size) + " bytes)");
  }
  if (header_len > kMaxHeaderBytes) {
    fail("header length " + std::to_string(header_len) + " exceeds the 100 MiB limit");
  }
  SafetensorsHeader out;
  out.data_offset = 8 + header_len;
  out.data_size = size - 8 - header_len;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail("header is not a JSON object");
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("__metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) fail("__metadata__ field '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) fail(where + ": entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) fail(where + ": missing dtype");
    if (!entry.contains("shape") || !entry["shape"].is_array()) fail(where + ": missing shape");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      fail(where + ": missing or malformed data_offsets");
    }
    SafetensorsEntry info;
    info.dtype = entry["dtype"].get<std::string>();
    const size_t element = safetensors_element_size(info.dtype);
    if (element == 0) fail(where + ": unknown dtype '" + info.dtype + "'");
    for (const auto& dim : entry["shape"]) {
      if (!dim.is_number_unsigned()) fail(where + ": shape entries must be non-negative integers");
      info.shape.push_back(checked_int64(dim.get<uint64_t>(), source, where + " shape"));
    }
    // numel x element size, checked; a zero dim does not excuse the others from fitting.
    std::vector<int64_t> factors{static_cast<int64_t>(element)};
    bool empty = false;
    for (const int64_t d : info.shape) {
      if (d == 0) empty = true;
      factors.push_back(std::max<int64_t>(d, 1));
    }
    const int64_t bytes_needed =
        checked_product(factors, source, where + " shape " + entry["shape"].dump());
    const auto expected = empty ? uint64_t{0} : static_cast<uint64_t>(bytes_needed);
    for (const auto& off : entry["data_offsets"]) {
      if (!off.is_number_unsigned()) fail(where + ": data_offsets must be non-negative integers");
    }
    info.begin = entry["data_offsets"][0].get<uint64_t>();
    info.end = entry["data_offsets"][1].get<uint64_t>();
    if (info.end < info.begin) fail(where + ": data_offsets end before begin");
    if (info.end > out.data_size) {
      fail(where + ": data_offsets [" + std::to_string(info.begin) + ", " +
           std::to_string(info.end) + "] go past the end of the data section (" +
           std::to_string(out.data_size) + " bytes; file truncated?)");
    }
    if (info.end - info.begin != expected) {
      fail(where + ": " + std::to_string(info.end - info.begin) + " bytes for dtype " + info.dtype +
           " and shape " + shape_string(info.shape) + " (expected " + std::to_string(expected) +
           ")");
    }
    ranges.emplace_back(info.begin, info.end);
    out.tensors.emplace(name, std::move(info));
    out.order.push_back(name);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      fail("tensor data ranges overlap at byte offset " + std::to_string(ranges[i].first));
    }
  }
  std::sort(out.order.begin(), out.order.end(), [&out](const std::string& a, const std::string& b) {
    return out.tensors.at(a).begin < out.tensors.at(b).begin;
  });
  return out;
}

std::map<std::string, std::set<std::string>> parse_safetensors_index(const std::string& text,
                                                                     const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": not valid JSON: " + e.what());
  }
  if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
    throw FormatError(source + ": missing object field 'weight_map'");
  }
  std::map<std::string, std::set<std::string>> by_file;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) {
      throw FormatError(source + ": weight_map entry '" + it.key() + "' is not a file name");
    }
    const std::string shard = it.value().get<std::string>();
    if (shard.find('/') != std::string::npos) {
      throw FormatError(source + ": shard name '" + shard + "' must be a plain file name");
    }
    by_file[shard].insert(it.key());
  }
  return by_file;
}

}  // namespace pplug::detail
