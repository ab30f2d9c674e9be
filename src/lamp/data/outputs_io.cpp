// Outputs / golds / predictions files: {"task": "LaMP_2", "golds": [{"id", "output"}, ...]}.
#include <unordered_map>

#include "lamp/data/json_scanner.h"
#include "lamp/data/json_writer.h"
#include "lamp/data/mapped_file.h"
#include "pplug/error.h"
#include "pplug/lamp_data.h"
#include "util/file_io.h"

namespace pplug::lamp {
namespace {

using detail::JsonScanner;

void read_string_member(JsonScanner& sc, std::string& out) {
  if (sc.peek() != '"') sc.fail(std::string("must be a string, found ") + sc.next_type());
  sc.read_string(out);
}

Output parse_output(JsonScanner& sc, std::string& key) {
  auto& ctx = sc.context();
  Output o;
  bool has_id = false, has_output = false;
  if (sc.peek() != '{')
    sc.fail(std::string("an output must be an object, found ") + sc.next_type());
  sc.expect('{', "'{'");
  if (!sc.consume('}')) {
    do {
      ctx.field = {};
      sc.read_string(key);
      sc.expect(':', "':' after a key");
      ctx.field = key;
      if (key == "id") {
        if (has_id) sc.fail("duplicate key");
        read_string_member(sc, o.id);
        has_id = true;
        ctx.id = &o.id;
      } else if (key == "output") {
        if (has_output) sc.fail("duplicate key");
        read_string_member(sc, o.output);
        has_output = true;
      } else {
        sc.skip_value();
      }
    } while (sc.consume(','));
    ctx.field = {};
    sc.expect('}', "',' or '}' in an output");
  }
  ctx.field = {};
  if (!has_id) sc.fail("missing \"id\"");
  if (!has_output) sc.fail("missing \"output\"");
  ctx.id = nullptr;
  return o;
}

OutputsFile parse_outputs_impl(std::string_view json, const std::string& source) {
  JsonScanner sc(json, source);
  OutputsFile file;
  std::string key;
  bool has_task = false, has_golds = false;
  if (sc.peek() != '{') {
    sc.fail(std::string(R"(expected an object {"task", "golds"}, found )") + sc.next_type());
  }
  sc.expect('{', "'{'");
  std::unordered_map<std::string, size_t> seen;
  if (!sc.consume('}')) {
    do {
      sc.context() = {};
      sc.read_string(key);
      sc.expect(':', "':' after a key");
      sc.context().field = key;
      if (key == "task") {
        if (has_task) sc.fail("duplicate key");
        read_string_member(sc, file.task);
        has_task = true;
      } else if (key == "golds") {
        if (has_golds) sc.fail("duplicate key");
        has_golds = true;
        if (sc.peek() != '[') sc.fail(std::string("must be an array, found ") + sc.next_type());
        sc.expect('[', "'['");
        if (!sc.consume(']')) {
          do {
            sc.context().record = static_cast<long>(file.golds.size());
            file.golds.push_back(parse_output(sc, key));
            const auto [it, inserted] = seen.emplace(file.golds.back().id, file.golds.size() - 1);
            if (!inserted) {
              sc.fail("duplicate id \"" + it->first + "\" (first seen at entry " +
                      std::to_string(it->second) + ")");
            }
          } while (sc.consume(','));
          sc.context() = {};
          sc.expect(']', "',' or ']' in \"golds\"");
        }
      } else {
        sc.skip_value();
      }
    } while (sc.consume(','));
    sc.context() = {};
    sc.expect('}', "',' or '}'");
  }
  sc.expect_end();
  if (!has_golds) sc.fail("missing \"golds\" array");
  return file;
}

}  // namespace

OutputsFile parse_outputs(std::string_view json, const std::string& source) {
  return parse_outputs_impl(json, source);
}

OutputsFile read_outputs(const std::string& path) {
  detail::MappedFile file(path);
  return parse_outputs_impl(file.view(), path);
}

std::string outputs_to_json(Task task, const std::vector<Output>& outputs) {
  std::string out = R"({"task":")" + task_name(task) + R"(","golds":[)";
  for (size_t i = 0; i < outputs.size(); ++i) {
    out += i == 0 ? "\n{\"id\":" : ",\n{\"id\":";
    const bool ok = detail::append_json_string(out, outputs[i].id) &&
                    (out += ",\"output\":", detail::append_json_string(out, outputs[i].output));
    if (!ok) {
      throw InvalidArgument("output " + std::to_string(i) + " (id \"" + outputs[i].id +
                            "\"): invalid UTF-8, cannot write JSON");
    }
    out += '}';
  }
  out += "\n]}\n";
  return out;
}

void write_outputs(const std::string& path, Task task, const std::vector<Output>& outputs) {
  pplug::detail::write_file_atomic(path, outputs_to_json(task, outputs));
}

}  // namespace pplug::lamp
