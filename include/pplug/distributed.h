// Communication for data-parallel training: N processes (ranks) each hold a replica of the
// trainable parameters and average their gradients after every backward pass.
//
// Built on libtorch's c10d (ProcessGroupGloo over TCP, CPU tensors), kept out of this header.
// Rank 0 serves the rendezvous store (a TCPStore on master_addr:master_port), or every rank
// shares a FileStore. World size 1 needs neither: every collective is then local.
//
// Threading and ordering contract: a Communicator is used from one thread at a time, and every
// rank calls the same collectives in the same order with tensors of the same shapes and dtypes
// (that is what makes them match up; check_same verifies what must agree before a run starts).
//
// Failures never hang: every collective (and the start-up) waits at most `timeout`; when a peer
// dies, stalls or never joins, the call throws pplug::Error naming the operation and, when it
// can be told, the ranks that did not answer. After such an error the Communicator is unusable
// (every later call throws at once); the run is meant to stop.
#pragma once

#include <torch/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace pplug {

struct DistributedConfig {
  int rank = 0;                              // this process, in [0, world_size)
  int world_size = 1;                        // number of processes; 1 = no communication at all
  std::string master_addr = "127.0.0.1";     // host of rank 0's store; this rank's Gloo device
                                             // binds to it when it is a loopback address, to this
                                             // machine's hostname otherwise (GLOO_SOCKET_IFNAME
                                             // names an interface instead, as in PyTorch)
  int master_port = 29500;                   // port of rank 0's store, in [1, 65535]
  std::string file_store;                    // path of a FileStore shared by every rank (a fresh
                                             // file per run); empty = TCPStore on master_addr:port
  std::chrono::milliseconds timeout{60000};  // bound on start-up and on each collective (> 0)
};

// The configuration torchrun (and run_local_workers) passes to each worker: RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT (LOCAL_RANK is ignored). Unset RANK and WORLD_SIZE mean a single
// process; a variable that is set must hold a valid value: InvalidArgument names it otherwise.
DistributedConfig distributed_config_from_env();

// Throws InvalidArgument naming the field when a configuration cannot work.
void validate(const DistributedConfig& config);

class Communicator {
 public:
  // Joins the group: blocks until every rank has joined (at most config.timeout) and throws
  // pplug::Error naming the ranks that never joined. With world_size > 1 the process ignores
  // SIGPIPE from then on (unless it handles it already): Gloo writes to sockets with writev,
  // and a write to a peer that just died must be an error, not the death of this rank too.
  explicit Communicator(const DistributedConfig& config);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  Communicator(Communicator&&) noexcept;
  Communicator& operator=(Communicator&&) noexcept;

  int rank() const;
  int world_size() const;

  // Replaces every tensor by its mean over the ranks, in place (float32 or float64 CPU tensors,
  // any layout; the typical use is the gradients after backward). Coalesced: one flat buffer and
  // one allreduce per dtype, whatever the number of tensors; the buffers are kept for the next
  // call (as large as the largest call's tensors, per dtype).
  void allreduce_mean(std::vector<torch::Tensor>& tensors);
  // Replaces `tensor` by its sum over the ranks, in place (float, double, int32 or int64, CPU).
  void allreduce_sum(torch::Tensor& tensor);
  // Overwrites every tensor with root's values, in place (CPU tensors of a dtype Gloo carries:
  // float32/64, float16, int8, uint8, int32, int64; the typical use is the initial parameters).
  void broadcast(std::vector<torch::Tensor>& tensors, int root);
  // Returns once every rank has called it.
  void barrier();
  // Every rank's string, indexed by rank (any lengths, empty included, binary-safe).
  std::vector<std::string> all_gather_strings(const std::string& mine);
  // Throws MismatchError on every rank when the ranks' values differ; the message names `what`
  // (for example "model fingerprint"), the ranks and their values.
  void check_same(const std::string& what, const std::string& value);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pplug
