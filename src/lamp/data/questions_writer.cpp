#include "lamp/data/json_writer.h"
#include "pplug/error.h"
#include "pplug/lamp_data.h"
#include "util/file_io.h"

namespace pplug::lamp {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void string(std::string_view s, size_t record, const std::string& id, std::string_view field) {
    if (!detail::append_json_string(out_, s)) {
      throw InvalidArgument("record " + std::to_string(record) + " (id \"" + id + "\"), field \"" +
                            std::string(field) + "\": invalid UTF-8, cannot write JSON");
    }
  }

  void field(const Field& f, size_t record, const std::string& id) {
    out_ += ',';
    string(f.name, record, id, f.name);
    out_ += ':';
    if (f.raw_json) {
      out_ += f.value;
    } else {
      string(f.value, record, id, f.name);
    }
  }

  void record(const Question& q, size_t index) {
    out_ += "{\"id\":";
    string(q.id, index, q.id, "id");
    out_ += ",\"input\":";
    string(q.input, index, q.id, "input");
    if (!q.user_id.empty()) {
      out_ += ",\"user_id\":";
      string(q.user_id, index, q.id, "user_id");
    }
    for (const Field& f : q.extra) field(f, index, q.id);
    out_ += ",\"profile\":[";
    for (size_t j = 0; j < q.profile.size(); ++j) {
      const ProfileItem& item = q.profile[j];
      out_ += j == 0 ? "{" : ",{";
      // An item without an id (allowed for LongLaMP) is written without one.
      const size_t open = out_.size();
      if (!item.id.empty()) {
        out_ += "\"id\":";
        string(item.id, index, q.id, "profile.id");
      }
      for (const Field& f : item.fields) field(f, index, q.id);
      if (item.id.empty() && out_.size() > open) out_.erase(open, 1);  // the leading ','
      out_ += '}';
    }
    out_ += "]}";
  }

 private:
  std::string& out_;
};

}  // namespace

std::string questions_to_json(const std::vector<Question>& questions) {
  std::string out;
  Writer w(out);
  out += '[';
  for (size_t i = 0; i < questions.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    w.record(questions[i], i);
  }
  out += "\n]\n";
  return out;
}

void write_questions(const std::string& path, const std::vector<Question>& questions) {
  pplug::detail::write_file_atomic(path, questions_to_json(questions));
}

}  // namespace pplug::lamp
