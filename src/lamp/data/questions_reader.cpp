// Streaming reader of LaMP questions files: the JSON is scanned once and the structs are built
// directly, with validation and error messages that locate the record, item and field.
#include <unordered_map>

#include "lamp/data/json_scanner.h"
#include "lamp/data/mapped_file.h"
#include "pplug/error.h"
#include "pplug/lamp_data.h"

namespace pplug::lamp {
namespace {

using detail::JsonScanner;

class QuestionsParser {
 public:
  QuestionsParser(std::string_view text, const std::string& source,
                  const QuestionsReadOptions& options, detail::MappedFile* file)
      : scanner_(text, source), options_(options), file_(file) {}

  std::vector<Question> parse() {
    std::vector<Question> out;
    if (scanner_.peek() != '[') {
      scanner_.fail(std::string("expected a JSON array of question records, found ") +
                    scanner_.next_type());
    }
    scanner_.expect('[', "'['");
    if (!scanner_.consume(']')) {
      do {
        out.push_back(parse_record(static_cast<long>(out.size())));
        if (file_ != nullptr) file_->release_before(scanner_.cursor());
      } while (scanner_.consume(','));
      scanner_.context() = {};
      scanner_.expect(']', "',' or ']' after a question record");
    }
    scanner_.expect_end();
    return out;
  }

 private:
  void expect_string(std::string& out) {
    if (scanner_.peek() != '"') {
      scanner_.fail(std::string("must be a string, found ") + scanner_.next_type());
    }
    scanner_.read_string(out);
  }

  static void check_new_key(JsonScanner& sc, bool seen) {
    if (seen) sc.fail("duplicate key");
  }

  // A field the reader does not interpret (the current key's value), kept verbatim in `fields`.
  void read_other_field(std::vector<Field>& fields) {
    for (const Field& f : fields) check_new_key(scanner_, f.name == key_);
    Field f;
    f.name = key_;
    f.raw_json = !scanner_.read_value_text(f.value);
    fields.push_back(std::move(f));
  }

  Question parse_record(long index) {
    auto& ctx = scanner_.context();
    ctx = {};
    ctx.record = index;
    Question q;
    if (scanner_.peek() != '{') {
      scanner_.fail(std::string("a question record must be an object, found ") +
                    scanner_.next_type());
    }
    scanner_.expect('{', "'{'");
    bool has_id = false, has_input = false, has_profile = false, has_user = false;
    if (!scanner_.consume('}')) {
      do {
        ctx.field = {};
        scanner_.read_string(key_);
        scanner_.expect(':', "':' after a key");
        ctx.field = key_;
        if (key_ == "id") {
          check_new_key(scanner_, has_id);
          expect_string(q.id);
          has_id = true;
          ctx.id = &q.id;
        } else if (key_ == "input") {
          check_new_key(scanner_, has_input);
          expect_string(q.input);
          has_input = true;
        } else if (key_ == "profile") {
          check_new_key(scanner_, has_profile);
          parse_profile(q.profile);
          has_profile = true;
        } else if (key_ == "user_id") {
          check_new_key(scanner_, has_user);
          const char c = scanner_.peek();
          if (c != '"' && c != '-' && (c < '0' || c > '9')) {
            scanner_.fail(std::string("must be a string or a number, found ") +
                          scanner_.next_type());
          }
          scanner_.read_value_text(q.user_id);
          has_user = true;
        } else {
          read_other_field(q.extra);
        }
      } while (scanner_.consume(','));
      ctx.field = {};
      scanner_.expect('}', "',' or '}' in a question record");
    }
    ctx.field = {};
    if (!has_id) scanner_.fail("missing \"id\"");
    if (!has_input) scanner_.fail("missing \"input\"");
    if (!has_profile) scanner_.fail("missing \"profile\"");
    const auto [it, inserted] = seen_ids_.emplace(q.id, index);
    if (!inserted) {
      scanner_.fail("duplicate question id \"" + q.id + "\" (first seen at record " +
                    std::to_string(it->second) + ")");
    }
    ctx.id = nullptr;
    return q;
  }

  void parse_profile(std::vector<ProfileItem>& profile) {
    auto& ctx = scanner_.context();
    if (scanner_.peek() != '[') {
      scanner_.fail(std::string("must be an array of items, found ") + scanner_.next_type());
    }
    scanner_.expect('[', "'['");
    if (scanner_.consume(']')) return;
    do {
      ctx.item = static_cast<long>(profile.size());
      ctx.field = {};
      profile.push_back(parse_item());
      ctx.field = "profile";
    } while (scanner_.consume(','));
    ctx.item = -1;
    scanner_.expect(']', "',' or ']' in the profile");
  }

  ProfileItem parse_item() {
    auto& ctx = scanner_.context();
    ProfileItem item;
    item.fields.reserve(4);  // LaMP items have 2-4 members besides the id
    if (scanner_.peek() != '{') {
      scanner_.fail(std::string("a profile item must be an object, found ") + scanner_.next_type());
    }
    scanner_.expect('{', "'{'");
    bool has_id = false;
    if (!scanner_.consume('}')) {
      do {
        ctx.field = {};
        scanner_.read_string(key_);
        scanner_.expect(':', "':' after a key");
        ctx.field = key_;
        if (key_ == "id") {
          check_new_key(scanner_, has_id);
          expect_string(item.id);
          has_id = true;
        } else {
          read_other_field(item.fields);
        }
      } while (scanner_.consume(','));
      ctx.field = {};
      scanner_.expect('}', "',' or '}' in a profile item");
    }
    ctx.field = {};
    if (options_.task) check_item_fields(item, has_id);
    return item;
  }

  void check_item_fields(const ProfileItem& item, bool has_id) {
    for (const std::string& name : profile_fields(*options_.task)) {
      if (name == "id") {
        if (!has_id)
          scanner_.fail("missing \"id\" (required by " + task_name(*options_.task) + ")");
        continue;
      }
      const Field* found = nullptr;
      for (const Field& f : item.fields) {
        if (f.name == name) found = &f;
      }
      if (found == nullptr) {
        scanner_.fail("missing \"" + name + "\" (required by " + task_name(*options_.task) + ")");
      }
      if (found->raw_json) {
        scanner_.fail("field \"" + name + "\" must be a string, found " + found->value);
      }
    }
  }

  JsonScanner scanner_;
  const QuestionsReadOptions& options_;
  detail::MappedFile* file_;
  std::string key_;
  std::unordered_map<std::string, long> seen_ids_;
};

}  // namespace

std::vector<Question> parse_questions(std::string_view json, const std::string& source,
                                      const QuestionsReadOptions& options) {
  return QuestionsParser(json, source, options, nullptr).parse();
}

std::vector<Question> read_questions(const std::string& path, const QuestionsReadOptions& options) {
  detail::MappedFile file(path);
  return QuestionsParser(file.view(), path, options, &file).parse();
}

}  // namespace pplug::lamp
