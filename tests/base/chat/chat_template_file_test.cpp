// Finding a model's chat template: tokenizer_config.json (string, named list), chat_template.jinja,
// a GGUF's tokenizer.chat_template; "none found" apart from "found but not recognised".
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "format/gguf_writer.h"
#include "pplug/chat_template_file.h"
#include "pplug/error.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

const std::string kModels = PPLUG_SHARED_MODELS;
const char* kChatml =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|im_start|>assistant\\n' }}{% endif %}";

std::string nlohmann_quote(const char* text) { return nlohmann::json(text).dump(); }

// A fresh folder per test (named by the process id, so parallel ctest runs do not collide).
class ChatTemplateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pplug_chat_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string path(const std::string& name = "") const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(ChatTemplateFile, StringInTokenizerConfig) {
  write("tokenizer_config.json", std::string(R"({"bos_token": {"content": "<B>"},
      "eos_token": "<|im_end|>", "chat_template": )") +
                                     nlohmann_quote(kChatml) + "}");
  const ChatTemplateSource found = find_chat_template(path());
  ASSERT_TRUE(found.found());
  EXPECT_EQ(found.source, kChatml);
  EXPECT_EQ(found.bos_token, "<B>");
  EXPECT_EQ(found.eos_token, "<|im_end|>");
  // A file of the folder means the folder.
  EXPECT_EQ(find_chat_template(path("tokenizer.json")).source, kChatml);
  EXPECT_EQ(load_chat_template(path()).name(), "chatml");
  // An explicit name wins over the file's template.
  EXPECT_EQ(load_chat_template(path(), "llama3").name(), "llama3");
}

TEST_F(ChatTemplateFile, NamedListUsesDefault) {
  write("tokenizer_config.json",
        std::string(R"({"chat_template": [{"name": "tool_use", "template": "x"},
                       {"name": "default", "template": )") +
            nlohmann_quote(kChatml) + "}]}");
  const ChatTemplateSource found = find_chat_template(path());
  EXPECT_EQ(found.source, kChatml);
  EXPECT_NE(found.origin.find("default"), std::string::npos);

  write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "x"}]})");
  EXPECT_THROW(find_chat_template(path()), FormatError);
  write("tokenizer_config.json", R"({"chat_template": 3})");
  EXPECT_THROW(find_chat_template(path()), FormatError);
  write("tokenizer_config.json", "{not json");
  EXPECT_THROW(find_chat_template(path()), FormatError);
}

TEST_F(ChatTemplateFile, JinjaFileComesFirst) {
  write("tokenizer_config.json", R"({"chat_template": "<|start_header_id|>"})");
  write("chat_template.jinja", kChatml);
  EXPECT_EQ(load_chat_template(path()).name(), "chatml");
}

TEST_F(ChatTemplateFile, NoneFoundIsNotUnknown) {
  write("tokenizer_config.json", R"({"bos_token": "<s>"})");
  const ChatTemplateSource none = find_chat_template(path());
  EXPECT_FALSE(none.found());
  try {
    load_chat_template(path());
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no chat template found"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("plain"), std::string::npos);
  }
  // A base model named "plain" gets the tokenizer's BOS string.
  EXPECT_EQ(load_chat_template(path(), "plain").bos_token(), "<s>");
  // Found but unknown: a FormatError naming the file.
  write("tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");
  try {
    load_chat_template(path());
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos);
  }
}

TEST_F(ChatTemplateFile, Gguf) {
  detail::GgufWriter w;
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"});
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  w.add_string("tokenizer.chat_template",
               "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + "
               "' [/INST]' }}{% endfor %}");
  w.write(path("m.gguf"));
  const ChatTemplateSource found = find_chat_template(path("m.gguf"));
  ASSERT_TRUE(found.found());
  EXPECT_NE(found.origin.find("tokenizer.chat_template"), std::string::npos);
  const ChatTemplate t = load_chat_template(path("m.gguf"));
  EXPECT_EQ(t.name(), "mistral-v0");
  EXPECT_EQ(t.hf_text({{"user", "hi"}}), "<s>[INST] hi [/INST]");

  detail::GgufWriter bare;
  bare.add_strings("tokenizer.ggml.tokens", {"a"});
  bare.write(path("bare.gguf"));
  EXPECT_FALSE(find_chat_template(path("bare.gguf")).found());
}

TEST_F(ChatTemplateFile, RealTokenizerFolders) {
  if (!fs::is_directory(kModels + "/llama3-tokenizer")) GTEST_SKIP() << "no " << kModels;
  const ChatTemplate llama3 = load_chat_template(kModels + "/llama3-tokenizer");
  EXPECT_EQ(llama3.name(), "llama3");
  EXPECT_EQ(llama3.bos_token(), "<|begin_of_text|>");
  const ChatTemplate qwen3 = load_chat_template(kModels + "/qwen3-tokenizer/tokenizer.json");
  EXPECT_EQ(qwen3.name(), "qwen3");
  EXPECT_EQ(qwen3.eos_token(), "<|im_end|>");
  // llama.cpp's Phi-3 vocabulary carries the first Phi-3-mini template.
  const ChatTemplate phi3 = load_chat_template(kModels + "/gguf-vocab/ggml-vocab-phi-3.gguf");
  EXPECT_EQ(phi3.name(), "phi3-mini-v0");
  EXPECT_EQ(phi3.hf_text({{"system", "S"}, {"user", "Hi"}}, false),
            "<s><|user|>\nHi<|end|>\n<|assistant|>\n");
  EXPECT_FALSE(find_chat_template(kModels + "/gguf-vocab/ggml-vocab-gpt-2.gguf").found());
}

}  // namespace
}  // namespace pplug
