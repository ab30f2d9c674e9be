// safetensors bytes (parse_safetensors_header: the length field, the header JSON, every
// tensor's dtype, shape and data_offsets). An accepted header must describe byte ranges inside
// the data section whose sizes match dtype x shape, list every tensor once in data order, and
// survive a rebuild: the header written again from the parsed entries parses to the same entries.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "format/safetensors_header.h"
#include "fuzz_support.h"

using namespace pplug;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "pplug fuzz: accepted safetensors header breaks an invariant: %s\n", what);
  std::abort();
}

void check(const detail::SafetensorsHeader& h, uint64_t size) {
  if (h.data_offset < 8 || h.data_offset + h.data_size != size) broken("data section bounds");
  if (h.order.size() != h.tensors.size()) broken("order lists every tensor once");
  uint64_t last = 0;
  for (const std::string& name : h.order) {
    const auto it = h.tensors.find(name);
    if (it == h.tensors.end()) broken("order names an unknown tensor");
    const detail::SafetensorsEntry& e = it->second;
    if (e.begin < last) broken("order is by data offset");
    last = e.begin;
    if (e.begin > e.end || e.end > h.data_size) broken("byte range inside the data section");
    unsigned __int128 bytes = detail::safetensors_element_size(e.dtype);
    if (bytes == 0) broken("known dtype");
    for (const int64_t d : e.shape) {
      if (d < 0) broken("non-negative dims");
      bytes *= static_cast<uint64_t>(d);
      if (bytes > (unsigned __int128)1 << 100) bytes = (unsigned __int128)1 << 100;  // saturate
    }
    if (bytes != e.end - e.begin) broken("byte count = element size x numel");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  fuzz::expect_documented([&] {
    const detail::SafetensorsHeader h = detail::parse_safetensors_header(data, size, "fuzz");
    check(h, size);
    // Rebuild: the same entries and metadata, written as the reference writer does.
    nlohmann::json j = nlohmann::json::object();
    if (!h.metadata.empty()) j["__metadata__"] = h.metadata;
    for (const auto& [name, e] : h.tensors) {
      j[name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
    }
    const std::string head = j.dump();
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((head.size() >> (8 * i)) & 0xff);
    bytes += head;
    bytes.append(h.data_size, '\0');
    const detail::SafetensorsHeader again = detail::parse_safetensors_header(
        reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "again");
    if (again.tensors.size() != h.tensors.size() || again.metadata != h.metadata) {
      broken("rebuild keeps tensors and metadata");
    }
    for (const auto& [name, e] : h.tensors) {
      const detail::SafetensorsEntry& f = again.tensors.at(name);
      if (f.dtype != e.dtype || f.shape != e.shape || f.begin != e.begin || f.end != e.end) {
        broken("rebuild keeps every entry");
      }
    }
  });
  return 0;
}
