// Allreduce cost on this machine: NPROC local ranks (run_local_workers, loopback TCP through
// Gloo) average float32 buffers of several sizes. Rank 0 prints one JSON line per size and case:
//   sum_raw    allreduce_sum of one contiguous tensor (Gloo alone)
//   mean_1     allreduce_mean of one tensor (adds the flatten, the division and the copy back)
//   mean_64    allreduce_mean of the same bytes split into 64 tensors (a model's gradients)
// with the median and minimum milliseconds per call, the algorithm bandwidth (buffer bytes /
// median time) and the bus bandwidth (algbw * 2 (n - 1) / n, the bytes each rank moves in a
// ring allreduce: comparable across rank counts).
//
//   allreduce_bench [--nproc N] [--sizes-mb 0.1,1,4,16] [--iters I]
// Started without RANK in the environment it launches N copies of itself (default 2).
#include <pplug/distributed.h>
#include <pplug/local_launcher.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int nproc = 2;
  std::vector<double> sizes_mb{0.1, 1, 4, 16};
  int iters = 30;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--nproc") {
      a.nproc = std::stoi(value);
    } else if (flag == "--iters") {
      a.iters = std::max(1, std::stoi(value));
    } else if (flag == "--sizes-mb") {
      a.sizes_mb.clear();
      std::istringstream list(value);
      for (std::string item; std::getline(list, item, ',');) a.sizes_mb.push_back(std::stod(item));
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return a;
}

// Milliseconds of each of `iters` calls after 3 warm-up calls. A barrier before each call, so
// that a rank arriving late (the machine is shared) is not counted as communication time.
template <typename Call>
std::vector<double> time_calls(pplug::Communicator& comm, int iters, const Call& call) {
  for (int i = 0; i < 3; ++i) call();
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    comm.barrier();
    const auto start = Clock::now();
    call();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

void report(const pplug::Communicator& comm, const char* name, double mb, int64_t bytes,
            const std::vector<double>& ms) {
  if (comm.rank() != 0) return;
  const double median = ms[ms.size() / 2];
  const double algbw = static_cast<double>(bytes) / (median * 1e-3) / 1e9;
  const int n = comm.world_size();
  std::printf(
      "{\"bench\": \"allreduce\", \"case\": \"%s\", \"ranks\": %d, \"mb\": %g, \"bytes\": %lld, "
      "\"median_ms\": %.4f, \"min_ms\": %.4f, \"algbw_gbps\": %.3f, \"busbw_gbps\": %.3f}\n",
      name, n, mb, static_cast<long long>(bytes), median, ms.front(), algbw,
      algbw * 2.0 * (n - 1) / n);
  std::fflush(stdout);
}

int run_rank(const Args& a) {
  pplug::Communicator comm(pplug::distributed_config_from_env());
  for (const double mb : a.sizes_mb) {
    const int64_t numel = std::max<int64_t>(64, static_cast<int64_t>(mb * 1e6 / 4));
    const int64_t bytes = numel * 4;
    torch::Tensor whole = torch::rand({numel});
    std::vector<torch::Tensor> one{whole};
    std::vector<torch::Tensor> pieces;
    for (auto& piece : torch::rand({numel}).chunk(64)) pieces.push_back(piece.clone());
    report(comm, "sum_raw", mb, bytes,
           time_calls(comm, a.iters, [&] { comm.allreduce_sum(whole); }));
    report(comm, "mean_1", mb, bytes, time_calls(comm, a.iters, [&] { comm.allreduce_mean(one); }));
    report(comm, "mean_64", mb, bytes,
           time_calls(comm, a.iters, [&] { comm.allreduce_mean(pieces); }));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (std::getenv("RANK") != nullptr) return run_rank(a);
    return pplug::run_local_workers(a.nproc, std::vector<std::string>(argv, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "allreduce_bench: " << e.what() << "\n";
    return 1;
  }
}
