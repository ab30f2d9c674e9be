// A world-size-1 Communicator: every collective is local, no store and no network, and inputs
// are checked exactly as with more ranks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "pplug/distributed.h"
#include "pplug/error.h"

namespace pplug {
namespace {

Communicator single() {
  DistributedConfig config;
  // Nothing here may be contacted: an unresolvable host and a port nobody serves.
  config.master_addr = "no-such-host.invalid";
  config.master_port = 1;
  return Communicator(config);
}

TEST(CommunicatorLocal, NeedsNoNetwork) {
  const auto start = std::chrono::steady_clock::now();
  Communicator comm = single();
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.world_size(), 1);
  comm.barrier();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(CommunicatorLocal, CollectivesAreIdentities) {
  Communicator comm = single();
  std::vector<torch::Tensor> tensors{torch::arange(6, torch::kFloat).reshape({2, 3}),
                                     torch::ones({4}, torch::kDouble) * 0.25};
  const auto before0 = tensors[0].clone(), before1 = tensors[1].clone();
  comm.allreduce_mean(tensors);
  EXPECT_TRUE(torch::equal(tensors[0], before0));
  EXPECT_TRUE(torch::equal(tensors[1], before1));
  auto sum = torch::tensor({3, 4}, torch::kLong);
  comm.allreduce_sum(sum);
  EXPECT_TRUE(torch::equal(sum, torch::tensor({3, 4}, torch::kLong)));
  comm.broadcast(tensors, 0);
  EXPECT_TRUE(torch::equal(tensors[0], before0));
  EXPECT_EQ(comm.all_gather_strings(std::string("a\0b", 3)),
            std::vector<std::string>{std::string("a\0b", 3)});
  EXPECT_EQ(comm.all_gather_strings(""), std::vector<std::string>{""});
  comm.check_same("model fingerprint", "abc");
}

TEST(CommunicatorLocal, RefusesWhatMoreRanksWouldRefuse) {
  Communicator comm = single();
  std::vector<torch::Tensor> ints{torch::ones({2}, torch::kLong)};
  try {
    comm.allreduce_mean(ints);
    FAIL() << "an int64 tensor was averaged";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 0 has dtype Long"), std::string::npos) << e.what();
  }
  std::vector<torch::Tensor> undefined{torch::ones({2}), torch::Tensor()};
  EXPECT_THROW(comm.allreduce_mean(undefined), InvalidArgument);
  std::vector<torch::Tensor> fine{torch::ones({2})};
  try {
    comm.broadcast(fine, 1);
    FAIL() << "root 1 of a world of 1 was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("root must be in [0, 0], got 1"), std::string::npos);
  }
  std::vector<torch::Tensor> bools{torch::ones({2}, torch::kBool)};
  EXPECT_THROW(comm.broadcast(bools, 0), InvalidArgument);
  auto half = torch::ones({2}, torch::kHalf);
  EXPECT_THROW(comm.allreduce_sum(half), InvalidArgument);
}

TEST(CommunicatorLocal, RefusesAnInvalidConfig) {
  DistributedConfig config;
  config.rank = 1;
  EXPECT_THROW(Communicator{config}, InvalidArgument);
}

}  // namespace
}  // namespace pplug
