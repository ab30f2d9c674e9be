// The scheduler batches what is queued together, each request's result equal to running it
// alone; it refuses work beyond its queue and isolates a request the library refuses. Batches
// are made deterministic by holding the scheduler thread inside a first job's on_done while
// the others queue (no sleeps, no timing).
#include <gtest/gtest.h>

#include <future>

#include "serve/batch_scheduler.h"
#include "serve/serve_fixture.h"

namespace pplug::serve {
namespace {

using serve::testing::make_tiny_plug;
using serve::testing::text_history;

struct Outcome {
  std::vector<GenerationResult> results;
  int status = 0;  // 0 = done, else the error status
  std::string error;
};

// A job whose outcome lands in a future.
std::pair<std::shared_ptr<GenerationJob>, std::future<Outcome>> make_job(
    std::shared_ptr<const UserRecord> user, const std::string& input, int tokens, int n = 1) {
  auto job = std::make_shared<GenerationJob>();
  job->user = std::move(user);
  job->input = input;
  job->options.max_new_tokens = tokens;
  job->n = n;
  auto promise = std::make_shared<std::promise<Outcome>>();
  job->on_done = [promise](std::vector<GenerationResult> r) {
    promise->set_value({std::move(r), 0, ""});
  };
  job->on_error = [promise](int status, const std::string& message) {
    promise->set_value({{}, status, message});
  };
  return {job, promise->get_future()};
}

// Holds the scheduler thread in its on_done until release() is called.
struct Blocker {
  std::shared_ptr<GenerationJob> job;
  std::promise<void> started, released;
  std::shared_future<void> release_signal = released.get_future().share();
  explicit Blocker(int tokens = 1) {
    job = make_job(nullptr, "Hold", tokens).first;
    job->on_done = [this](std::vector<GenerationResult>) {
      started.set_value();
      release_signal.wait();
    };
  }
  void release() {
    if (!done) released.set_value();
    done = true;
  }
  ~Blocker() { release(); }  // a failed test must not leave the scheduler thread held
  bool done = false;
};

class BatchSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tiny_ = make_tiny_plug();
    PPLUG_SERVE_REQUIRE_PLUG(tiny_);
  }
  std::shared_ptr<const UserRecord> user(int n, int salt) const {
    auto r = std::make_shared<UserRecord>();
    r->items = text_history(n, salt);
    r->embedding = tiny_.plug->embed_user(r->items);
    return r;
  }
  serve::testing::TinyPlug tiny_;
};

TEST_F(BatchSchedulerTest, QueuedUsersRunAsOneBatchAndEqualEachAlone) {
  Metrics metrics;
  BatchScheduler scheduler(tiny_.plug, {8, 64}, &metrics);
  Blocker blocker;
  ASSERT_TRUE(scheduler.submit(blocker.job));
  blocker.started.get_future().wait();
  std::vector<std::shared_ptr<const UserRecord>> users;
  std::vector<std::future<Outcome>> outcomes;
  const std::vector<std::string> inputs = {"The dog", "A ball in the park", "Cake", "A tree"};
  for (int u = 0; u < 4; ++u) {
    users.push_back(user(u + 1, u));
    auto [job, outcome] = make_job(users.back(), inputs[u], 6, /*n=*/u == 3 ? 2 : 1);
    ASSERT_TRUE(scheduler.submit(job));
    outcomes.push_back(std::move(outcome));
  }
  EXPECT_EQ(scheduler.queue_length(), 4u);
  blocker.release();
  GenerationOptions o;
  o.max_new_tokens = 6;
  for (int u = 0; u < 4; ++u) {
    const Outcome got = outcomes[u].get();
    ASSERT_EQ(got.status, 0) << got.error;
    ASSERT_EQ(got.results.size(), u == 3 ? 2u : 1u);
    const auto alone = tiny_.plug->generate(users[u]->embedding, inputs[u], o);
    for (const auto& r : got.results) {
      EXPECT_EQ(r.generated_ids, alone.generated_ids) << "user " << u;
      EXPECT_EQ(r.text, alone.text);
    }
  }
  // One batch of 1 row (the blocker), then one of 5 rows (4 users, one with n = 2).
  const std::string text = metrics.render({});
  EXPECT_NE(text.find("pplug_batch_rows_bucket{le=\"4\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pplug_batch_rows_bucket{le=\"8\"} 2\n"), std::string::npos) << text;
}

TEST_F(BatchSchedulerTest, AFullQueueRefusesAndStopFailsWhatIsQueued) {
  BatchScheduler scheduler(tiny_.plug, {8, 2}, nullptr);
  Blocker blocker;
  ASSERT_TRUE(scheduler.submit(blocker.job));
  blocker.started.get_future().wait();
  auto [a, a_outcome] = make_job(nullptr, "one", 2);
  auto [b, b_outcome] = make_job(nullptr, "two", 2);
  auto [c, c_outcome] = make_job(nullptr, "three", 2);
  EXPECT_TRUE(scheduler.submit(a));
  EXPECT_TRUE(scheduler.submit(b));
  EXPECT_FALSE(scheduler.submit(c));  // the queue holds 2
  std::thread stopper([&] { scheduler.stop(); });
  blocker.release();
  stopper.join();
  // Stopped: what was queued either ran before the stop was seen or was failed with 503.
  for (auto* outcome : {&a_outcome, &b_outcome}) {
    const Outcome got = outcome->get();
    EXPECT_TRUE(got.status == 0 || got.status == 503) << got.status << " " << got.error;
  }
  EXPECT_FALSE(scheduler.submit(make_job(nullptr, "late", 2).first));
}

TEST_F(BatchSchedulerTest, ARefusedRequestDoesNotFailItsBatchMates) {
  BatchScheduler scheduler(tiny_.plug, {8, 64}, nullptr);
  Blocker blocker;
  ASSERT_TRUE(scheduler.submit(blocker.job));
  blocker.started.get_future().wait();
  std::string too_long;
  for (int i = 0; i < 300; ++i) too_long += "dog ";  // beyond the tiny model's 128 positions
  auto [bad, bad_outcome] = make_job(nullptr, too_long, 4);
  auto [good, good_outcome] = make_job(nullptr, "Once upon a time", 4);
  ASSERT_TRUE(scheduler.submit(bad));
  ASSERT_TRUE(scheduler.submit(good));
  blocker.release();
  const Outcome refused = bad_outcome.get();
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.error.find("positions"), std::string::npos) << refused.error;
  const Outcome served = good_outcome.get();
  ASSERT_EQ(served.status, 0) << served.error;
  GenerationOptions o;
  o.max_new_tokens = 4;
  EXPECT_EQ(served.results[0].text,
            Generator(tiny_.llm.model, tiny_.llm.tokenizer).generate("Once upon a time", o).text);
}

TEST(BatchSharingTest, OnlyGreedyRequestsWithTheSameOptionsShare) {
  GenerationJob a, b;
  a.options.max_new_tokens = b.options.max_new_tokens = 5;
  EXPECT_TRUE(can_share_batch(a, b));
  b.options.temperature = 0.7f;  // sampled requests run alone (their seed must reproduce)
  EXPECT_FALSE(can_share_batch(a, b));
  b.options.temperature = 0;
  b.options.stop_strings = {"\n"};
  EXPECT_FALSE(can_share_batch(a, b));
  b.options.stop_strings.clear();
  b.user = std::make_shared<UserRecord>();  // personalized and plain run through different calls
  EXPECT_FALSE(can_share_batch(a, b));
}

}  // namespace
}  // namespace pplug::serve
