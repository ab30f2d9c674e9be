// The include graph of src/ and include/pplug points only down the layer order of
// docs/design.md ("Layers"): a file may include its own folder, any lower layer, and the public
// headers owned by those. A new folder or public header must be placed in the tables below.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Lowest first. Folders on one level do not include each other.
const std::map<std::string, int> kLayerOf = {
    {"util", 0},                                       // errors, files, logging, hashing
    {"text", 1},                                       // Unicode
    {"format", 2},     {"lamp", 2},      {"dist", 2},  // file formats; LaMP; communication
    {"memory", 3},     {"chat", 3},                    // weight memory; chat templates
    {"kernels", 4},    {"tokenizer", 4},               // CPU kernels; tokenizers
    {"models", 5},                                     // Llama, T5, BERT
    {"generation", 6}, {"io", 6},                      // decoding; model files
    {"plug", 7},                                       // Persona-Plug
    {"eval", 8},                                       // evaluation
    {"train", 9},                                      // training
    {"serve", 10},                                     // the HTTP server
    {"cli", 11},                                       // the pplug binary
};

// The folder whose layer each public header belongs to (where it is implemented).
const std::map<std::string, std::string> kPublicHeaderOwner = {
    {"error.h", "util"},
    {"logging.h", "util"},
    {"wordpiece.h", "text"},
    {"lamp_data.h", "lamp"},
    {"lamp_metrics.h", "lamp"},
    {"lamp_prompt.h", "lamp"},
    {"lamp_retrieval.h", "lamp"},
    {"lamp_synth.h", "lamp"},
    {"lamp_task.h", "lamp"},
    {"llama_config.h", "format"},
    {"t5_config.h", "format"},
    {"safetensors.h", "memory"},
    {"distributed.h", "dist"},
    {"local_launcher.h", "dist"},
    {"chat_template.h", "chat"},
    {"chat_template_file.h", "chat"},
    {"tokenizer.h", "tokenizer"},
    {"chat_prompt.h", "tokenizer"},
    {"llama_model.h", "models"},
    {"t5_model.h", "models"},
    {"language_model.h", "models"},
    {"t5_generation.h", "models"},
    {"text_encoder.h", "models"},
    {"generation.h", "generation"},
    {"model_io.h", "io"},
    {"t5_io.h", "io"},
    {"sentence_encoder.h", "plug"},
    {"persona_plug.h", "plug"},
    {"plugin_config.h", "format"},
    {"evaluator.h", "eval"},
    {"trainer.h", "train"},
    {"lamp_training.h", "train"},
    {"training_recipe.h", "train"},
};

struct Violation {
  std::string where, message;
};

bool is_source(const fs::path& p) { return p.extension() == ".h" || p.extension() == ".cpp"; }

// "" when `include` (a quoted include) names no layered folder (e.g. a file beside it).
std::string layer_folder_of_include(const std::string& include, const std::string& own) {
  if (include.rfind("pplug/", 0) == 0) {
    const auto it = kPublicHeaderOwner.find(include.substr(6));
    return it == kPublicHeaderOwner.end() ? "?" + include : it->second;
  }
  const auto slash = include.find('/');
  if (slash == std::string::npos) return own;
  return include.substr(0, slash);
}

void check_file(const fs::path& file, const std::string& where, const std::string& own,
                std::vector<Violation>& out) {
  static const std::regex quoted(R"(^\s*#\s*include\s*"([^"]+)\")");
  std::ifstream in(file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::smatch m;
    if (!std::regex_search(line, m, quoted)) continue;
    const std::string include = m[1];
    const std::string folder = layer_folder_of_include(include, own);
    const std::string at = where + ":" + std::to_string(n);
    if (folder.rfind('?', 0) == 0) {
      out.push_back({at, "includes " + include + ", a public header with no layer"});
      continue;
    }
    const auto target = kLayerOf.find(folder);
    if (target == kLayerOf.end() || folder == own) continue;  // not a src/ folder (e.g. gtest)
    const int mine = kLayerOf.at(own);
    if (target->second >= mine) {
      out.push_back({at, "(" + own + ", layer " + std::to_string(mine) + ") includes " + include +
                             " (" + folder + ", layer " + std::to_string(target->second) + ")"});
    }
  }
}

std::vector<Violation> check_tree(const fs::path& root) {
  std::vector<Violation> out;
  for (const auto& folder : fs::directory_iterator(root / "src")) {
    if (!folder.is_directory()) continue;
    const std::string name = folder.path().filename().string();
    if (kLayerOf.count(name) == 0) {
      out.push_back({"src/" + name, "folder has no layer (add it to kLayerOf and docs/design.md)"});
      continue;
    }
    for (const auto& entry : fs::recursive_directory_iterator(folder.path())) {
      if (!entry.is_regular_file() || !is_source(entry.path())) continue;
      check_file(entry.path(), fs::relative(entry.path(), root).string(), name, out);
    }
  }
  for (const auto& entry : fs::directory_iterator(root / "include" / "pplug")) {
    if (!entry.is_regular_file() || !is_source(entry.path())) continue;
    const std::string name = entry.path().filename().string();
    const auto owner = kPublicHeaderOwner.find(name);
    const std::string where = "include/pplug/" + name;
    if (owner == kPublicHeaderOwner.end()) {
      out.push_back({where, "public header has no layer (add it to kPublicHeaderOwner)"});
      continue;
    }
    check_file(entry.path(), where, owner->second, out);
  }
  return out;
}

std::string describe(const std::vector<Violation>& violations) {
  std::string s;
  for (const auto& v : violations) s += "  " + v.where + ": " + v.message + "\n";
  return s;
}

TEST(IncludeLayers, SourceTreeIncludesOnlyDownward) {
  const fs::path root = PPLUG_SOURCE_DIR;
  ASSERT_TRUE(fs::is_directory(root / "src")) << root;
  const auto violations = check_tree(root);
  EXPECT_TRUE(violations.empty()) << violations.size() << " include(s) against the layer order:\n"
                                  << describe(violations);
}

// The check itself catches an upward include, an unknown folder and an unplaced public header.
TEST(IncludeLayers, FindsUpwardIncludesInATree) {
  const fs::path root =
      fs::temp_directory_path() /
      ("pplug_layers_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(root);
  fs::create_directories(root / "src" / "util");
  fs::create_directories(root / "src" / "lamp");
  fs::create_directories(root / "src" / "newthing");
  fs::create_directories(root / "include" / "pplug");
  std::ofstream(root / "src" / "util" / "a.cpp")
      << "#include \"lamp/b.h\"\n#include \"util/c.h\"\n";
  std::ofstream(root / "src" / "lamp" / "b.h") << "#include \"util/c.h\"\n#include \"pplug/x.h\"\n";
  std::ofstream(root / "include" / "pplug" / "error.h") << "#include \"pplug/persona_plug.h\"\n";
  std::ofstream(root / "include" / "pplug" / "x.h") << "\n";
  const std::string found = describe(check_tree(root));
  fs::remove_all(root);
  EXPECT_NE(found.find("src/util/a.cpp:1: (util, layer 0) includes lamp/b.h"), std::string::npos)
      << found;
  EXPECT_EQ(found.find("src/util/a.cpp:2"), std::string::npos) << found;
  EXPECT_NE(found.find("src/lamp/b.h:2: includes pplug/x.h, a public header with no layer"),
            std::string::npos)
      << found;
  EXPECT_NE(found.find("src/newthing: folder has no layer"), std::string::npos) << found;
  EXPECT_NE(found.find("include/pplug/error.h:1: (util, layer 0) includes pplug/persona_plug.h"),
            std::string::npos)
      << found;
  EXPECT_NE(found.find("include/pplug/x.h: public header has no layer"), std::string::npos)
      << found;
}

}  // namespace
