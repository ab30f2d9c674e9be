// The `pplug` command-line tool: one sub-command per verb (see commands.h). Built as
// libpplug_cli.so and run by the `pplug` launcher (launcher/main.cpp), which sets the OpenMP
// wait policy before libtorch loads.
#include <c10/util/Exception.h>

#include <iostream>
#include <new>
#include <string>

#include "cli/cli_distributed.h"
#include "cli/commands.h"
#include "pplug/error.h"
#include "util/compute_threads.h"

namespace {

// The first line of a message (libtorch appends stack traces and notes on later lines).
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

bool is_out_of_memory(const std::string& message) {
  return message.find("not enough memory") != std::string::npos ||
         message.find("can't allocate memory") != std::string::npos ||
         message.find("Cannot allocate memory") != std::string::npos;
}

constexpr const char* kMemoryHint =
    " (out of memory: try a smaller model, --dtype, --batch-size or --beams)";

}  // namespace

extern "C" __attribute__((visibility("default"))) int pplug_cli_main(int argc, char** argv) {
  pplug::detail::keep_freed_tensor_memory();
  pplug::cli::set_command_line(argc, argv);
  CLI::App app{"pplug: personalize a frozen LLM with Persona-Plug"};
  app.require_subcommand(1);
  pplug::cli::register_tokenize(app);
  pplug::cli::register_generate(app);
  pplug::cli::register_convert(app);
  pplug::cli::register_bench(app);
  pplug::cli::register_random_model(app);
  pplug::cli::register_score(app);
  pplug::cli::register_retrieve(app);
  pplug::cli::register_prompt(app);
  pplug::cli::register_synth(app);
  pplug::cli::register_embed(app);
  pplug::cli::register_plugin_init(app);
  pplug::cli::register_train(app);
  pplug::cli::register_eval(app);
  pplug::cli::register_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const pplug::cli::ExitWith& done) {
    return done.code;
  } catch (const pplug::Error& e) {
    std::cerr << "pplug: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "pplug: error: a memory allocation failed" << kMemoryHint << "\n";
    return 1;
  } catch (const c10::Error& e) {
    // One line, without libtorch's C++ stack trace.
    const std::string message = first_line(e.what_without_backtrace());
    if (is_out_of_memory(message)) {
      std::cerr << "pplug: error: " << message << kMemoryHint << "\n";
      return 1;
    }
    std::cerr << "pplug: unexpected error (libtorch): " << message << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "pplug: unexpected error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
