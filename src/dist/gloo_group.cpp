#include "dist/gloo_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <sstream>

#include "dist/exception_text.h"
#include "dist/failure_report.h"
#include "dist/rendezvous.h"
#include "pplug/error.h"

namespace pplug::dist {
namespace {

using Device = std::shared_ptr<::gloo::transport::Device>;

// Gloo sends with writev, which raises SIGPIPE when the peer has just closed its socket: the
// death of one rank would kill the others instead of letting them report it. Python (and so
// torch.distributed) ignores SIGPIPE from the start; a C++ program must do it here. A handler the
// program installed itself is kept.
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && !(current.sa_flags & SA_SIGINFO) &&
      current.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// On one machine everything goes over the loopback address the store uses; across machines each
// rank binds its own hostname's address, or the interfaces GLOO_SOCKET_IFNAME lists (one device
// per interface, as torch.distributed does).
std::vector<Device> make_devices(const DistributedConfig& config) {
  std::vector<Device> devices;
  if (const char* names = std::getenv("GLOO_SOCKET_IFNAME"); names != nullptr && *names != '\0') {
    std::istringstream list(names);
    for (std::string name; std::getline(list, name, ',');) {
      if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
  }
  if (devices.empty()) {
    devices.push_back(is_loopback(config.master_addr)
                          ? c10d::ProcessGroupGloo::createDeviceForHostname(config.master_addr)
                          : c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return devices;
}

}  // namespace

struct GlooGroup::State {
  DistributedConfig config;
  c10::intrusive_ptr<c10d::Store> store;  // declared before `group`, so it outlives it
  std::vector<std::string> identities;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  int64_t sequence = 0;  // collectives started (the same count on every rank)
  std::string broken;    // the first failure's message; non-empty = unusable

  [[noreturn]] void fail(const std::string& op, const std::string& cause) {
    FailureContext context;
    context.rank = config.rank;
    context.world_size = config.world_size;
    context.sequence = sequence;
    context.identities = identities;
    context.store_served_by_rank0 = config.file_store.empty();
    context.grace = std::min(config.timeout, std::chrono::milliseconds(10000));
    const std::string who = diagnose_failure(*store, context);
    broken = op + " failed on rank " + std::to_string(config.rank) + " of " +
             std::to_string(config.world_size) + " (collective #" + std::to_string(sequence) +
             "): " + who + ". Cause: " + cause;
    throw Error(broken);
  }

  // Runs one collective: `start` queues it on the group's worker thread, and this thread waits at
  // most the timeout for it. Gloo enforces the same timeout on each of its socket waits, so the
  // worker does not stay blocked long after this gives up either.
  template <typename Start>
  void run(const std::string& op, Start&& start) {
    if (!broken.empty()) {
      throw Error(op + ": the communicator is unusable after an earlier failure: " + broken);
    }
    ++sequence;
    std::string cause;
    try {
      start()->wait(config.timeout);
      return;
    } catch (const std::exception& e) {
      cause = exception_text(e);
    }
    if (cause == "Operation timed out!") {  // c10d's Work::wait gives no figure
      cause = "no result within " + std::to_string(config.timeout.count()) + " ms";
    }
    fail(op, cause);
  }
};

GlooGroup::GlooGroup(const DistributedConfig& config) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.config = config;
  ignore_sigpipe();
  const auto deadline = Clock::now() + config.timeout;
  s.store = open_store(config, deadline);
  s.identities = join_group(*s.store, config, deadline);
  auto options = c10d::ProcessGroupGloo::Options::create(config.timeout);
  // One worker thread: pplug waits for each collective before it starts the next, so more
  // threads would only sit idle beside the compute threads.
  options->threads = 1;
  try {
    options->devices = make_devices(config);
    s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", s.store), config.rank, config.world_size,
        options);
  } catch (const std::exception& e) {
    ++s.sequence;
    s.fail("start-up (connecting the Gloo pairs)", exception_text(e));
  }
  // Every rank is connected once this returns; before it a rank that finished early could shut
  // its store down under a peer still reading the addresses from it.
  s.run("start-up (barrier)", [&] { return s.group->barrier(); });
}

GlooGroup::~GlooGroup() = default;

void GlooGroup::allreduce_sum(at::Tensor& tensor, const std::string& op) {
  std::vector<at::Tensor> tensors{tensor};
  state_->run(op, [&] { return state_->group->allreduce(tensors); });
}

void GlooGroup::broadcast(at::Tensor& tensor, int root, const std::string& op) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  state_->run(op, [&] { return state_->group->broadcast(tensors, options); });
}

std::vector<at::Tensor> GlooGroup::allgather(const at::Tensor& tensor, const std::string& op) {
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < state_->config.world_size; ++r) outputs[0].push_back(at::empty_like(tensor));
  std::vector<at::Tensor> inputs{tensor};
  state_->run(op, [&] { return state_->group->allgather(outputs, inputs); });
  return outputs[0];
}

void GlooGroup::barrier(const std::string& op) {
  state_->run(op, [&] { return state_->group->barrier(); });
}

}  // namespace pplug::dist
