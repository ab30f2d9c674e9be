#include "pplug/error.h"
#include "pplug/lamp_data.h"

namespace pplug::lamp {

const std::string* ProfileItem::find(std::string_view name) const {
  for (const Field& f : fields) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

std::string_view ProfileItem::get(std::string_view name) const {
  const std::string* v = find(name);
  return v == nullptr ? std::string_view() : std::string_view(*v);
}

void ProfileItem::set(std::string_view name, std::string value) {
  for (Field& f : fields) {
    if (f.name == name) {
      f.value = std::move(value);
      f.raw_json = false;
      return;
    }
  }
  fields.push_back(Field{std::string(name), std::move(value), false});
}

const std::string* Question::find_extra(std::string_view name) const {
  for (const Field& f : extra) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

std::vector<Output> outputs_from_questions(const std::vector<Question>& questions,
                                           std::string_view field) {
  std::vector<Output> out;
  out.reserve(questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    const std::string* v = questions[i].find_extra(field);
    if (v == nullptr) {
      throw FormatError("record " + std::to_string(i) + " (id \"" + questions[i].id +
                        "\") has no \"" + std::string(field) + "\" member");
    }
    out.push_back(Output{questions[i].id, *v});
  }
  return out;
}

}  // namespace pplug::lamp
