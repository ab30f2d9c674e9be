// LaMP questions-file parsing: throughput and peak memory of pplug::lamp::read_questions, with
// same-run baselines (raw read of the file, nlohmann::json SAX with a no-op handler, nlohmann DOM).
//
//   lamp_parse_bench --generate-mb 300 FILE   write a LaMP-3-like questions file of ~300 MB
//   lamp_parse_bench FILE [--no-dom]          measure; prints one JSON object
//
// Each phase runs in a forked child; its peak RSS is the child's VmHWM (/proc/self/status)
// minus its RSS at the start of the phase.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "lamp/synth/synth_rng.h"
#include "pplug/lamp_data.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double status_mb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(std::strlen(key))) / 1024.0;
  }
  return -1;
}

// Streams `file` through a 1 MiB buffer: the raw read speed (and warms the page cache).
double raw_read_seconds(const std::string& file, size_t& bytes) {
  const auto t = Clock::now();
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + file);
  std::string buf(1 << 20, '\0');
  bytes = 0;
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) bytes += static_cast<size_t>(n);
  ::close(fd);
  return seconds_since(t);
}

// A no-op SAX handler: nlohmann's lexer and parser without building anything.
struct NullSax : nlohmann::json_sax<nlohmann::json> {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw std::runtime_error(e.what());
  }
};

std::string read_whole(const std::string& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + file);
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

// Runs `phase` in a forked child and returns the JSON it produced.
template <typename Phase>
nlohmann::json in_child(Phase phase) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      out = phase().dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}}.dump();
    }
    const ssize_t w = ::write(fds[1], out.data(), out.size());
    (void)w;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  auto j = nlohmann::json::parse(text);
  if (j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
  return j;
}

void generate(const std::string& file, double megabytes) {
  static const char* kWords[] = {
      "the",          "toy",     "was",          "great",      "my",      "son",
      "loves",        "it",      "and",          "we",         "play",    "every",
      "day",          "but",     "battery",      "died",       "after",   "week",
      "quality",      "is",      "good",         "for",        "price",   "would",
      "buy",          "again",   "not",          "worth",      "money",   "broke",
      "fast",         "color",   "red",          "blue",       "size",    "small",
      "big",          "easy",    "to",           "use",        "arrived", "late",
      "box",          "damaged", "happy",        "with",       "this",    "product",
      "recommend",    "friends", "\\\"best\\\"", "caf\\u00e9", "\\n",     "\\ud83d\\ude00",
      "na\xc3\xafve", "kids",    "garden",       "park",       "ball",    "dog",
      "cat",          "sun"};
  const size_t n_words = sizeof(kWords) / sizeof(kWords[0]);
  pplug::lamp::detail::Rng rng(42);
  auto text = [&](std::string& out, int lo, int hi) {
    const int n = rng.between(lo, hi);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += ' ';
      out += kWords[rng.below(n_words)];
    }
  };
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot create " + file);
  const size_t target = static_cast<size_t>(megabytes * 1024 * 1024);
  size_t written = 0;
  std::string rec;
  std::fputs("[\n", f);
  for (long q = 0; written < target; ++q) {
    rec.clear();
    if (q > 0) rec += ",\n";
    rec += "{\"id\": \"" + std::to_string(310000 + q) +
           "\", \"input\": \"What is the score of the "
           "following review on a scale of 1 to 5? just answer with 1, 2, 3, 4, or 5 without "
           "further explanation. review: ";
    text(rec, 20, 120);
    rec += "\", \"profile\": [";
    const int items = rng.between(20, 300);
    for (int j = 0; j < items; ++j) {
      rec += j == 0 ? "{\"text\": \"" : ", {\"text\": \"";
      text(rec, 10, 160);
      rec += "\", \"score\": \"" + std::to_string(rng.between(1, 5)) + "\", \"id\": \"" +
             std::to_string(q * 1000 + j) + "\", \"date\": \"2019-0" +
             std::to_string(rng.between(1, 9)) + "-1" + std::to_string(rng.between(0, 9)) + "\"}";
    }
    rec += "]}";
    std::fwrite(rec.data(), 1, rec.size(), f);
    written += rec.size();
  }
  std::fputs("\n]\n", f);
  std::fclose(f);
  std::cout << "{\"generated\": \"" << file << "\", \"bytes\": " << written << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string file;
    double generate_mb = 0;
    bool dom = true;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--generate-mb" && i + 1 < argc) {
        generate_mb = std::stod(argv[++i]);
      } else if (a == "--no-dom") {
        dom = false;
      } else {
        file = a;
      }
    }
    if (file.empty()) {
      std::cerr << "usage: lamp_parse_bench [--generate-mb N] [--no-dom] FILE\n";
      return 2;
    }
    if (generate_mb > 0) {
      generate(file, generate_mb);
      return 0;
    }
    size_t bytes = 0;
    raw_read_seconds(file, bytes);  // warm the page cache
    const double mb = static_cast<double>(bytes) / (1024 * 1024);
    nlohmann::ordered_json r;
    r["file"] = file;
    r["size_mb"] = mb;
    r["raw_read_mb_s"] = mb / raw_read_seconds(file, bytes);
    // Each phase runs in its own child process so that its peak RSS is its own.
    const auto pplug = in_child([&] {
      nlohmann::json out;
      const double base_rss = status_mb("VmRSS:");
      const auto t = Clock::now();
      const auto qs = pplug::lamp::read_questions(file, {pplug::lamp::Task::kLaMP3});
      out["s"] = seconds_since(t);
      out["peak_rss_mb"] = status_mb("VmHWM:") - base_rss;
      size_t items = 0;
      for (const auto& q : qs) items += q.profile.size();
      out["questions"] = qs.size();
      out["items"] = items;
      return out;
    });
    r["questions"] = pplug["questions"];
    r["profile_items"] = pplug["items"];
    r["pplug_mb_s"] = mb / pplug["s"].get<double>();
    r["pplug_peak_rss_mb"] = pplug["peak_rss_mb"];
    r["pplug_peak_over_file"] = pplug["peak_rss_mb"].get<double>() / mb;
    const auto sax = in_child([&] {
      const std::string text = read_whole(file);
      NullSax handler;
      const auto t = Clock::now();
      nlohmann::json::sax_parse(text, &handler);
      return nlohmann::json{{"s", seconds_since(t)}};
    });
    r["nlohmann_sax_mb_s"] = mb / sax["s"].get<double>();
    r["pplug_speedup_vs_nlohmann_sax"] =
        r["pplug_mb_s"].get<double>() / r["nlohmann_sax_mb_s"].get<double>();
    if (dom) {
      const auto dom_result = in_child([&] {
        const double base_rss = status_mb("VmRSS:");
        const auto t = Clock::now();
        // What a DOM reader costs: the file text plus the tree.
        const auto j = nlohmann::json::parse(read_whole(file));
        return nlohmann::json{{"s", seconds_since(t)},
                              {"peak_rss_mb", status_mb("VmHWM:") - base_rss}};
      });
      r["nlohmann_dom_mb_s"] = mb / dom_result["s"].get<double>();
      r["nlohmann_dom_peak_rss_mb"] = dom_result["peak_rss_mb"];
      r["pplug_speedup_vs_nlohmann_dom"] =
          r["pplug_mb_s"].get<double>() / r["nlohmann_dom_mb_s"].get<double>();
    }
    std::cout << r.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "lamp_parse_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
