// The scheduler decodes what is queued together and lets new requests join a running decode,
// each request's result equal to running it alone; it refuses work beyond its queue and isolates
// a request the library refuses. Batches are made deterministic by holding the scheduler thread
// inside a job's callback while the others queue (no sleeps, no timing).
#include <gtest/gtest.h>

#include <future>
#include <mutex>

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

// The count of the histogram bucket `le` in /metrics text (cumulative, as Prometheus renders).
uint64_t bucket(const std::string& text, const std::string& le) {
  const std::string key = "pplug_batch_rows_bucket{le=\"" + le + "\"} ";
  const auto at = text.find(key);
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + key.size()));
}

TEST_F(BatchSchedulerTest, QueuedUsersRunTogetherAndEqualEachAlone) {
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
  // The blocker's one step ran with 1 row; the 4 users (5 rows) decoded together after it.
  const std::string text = metrics.render({});
  EXPECT_GE(bucket(text, "1"), 1u) << text;
  EXPECT_GE(bucket(text, "8") - bucket(text, "4"), 1u) << text;
}

TEST_F(BatchSchedulerTest, ARequestJoinsARunningDecodeAndLeavesFirst) {
  // A long plain request is held inside its stream after a few tokens; a short personalized and
  // a sampled request queue meanwhile, join its decode, and finish while it still runs.
  BatchScheduler scheduler(tiny_.plug, {8, 64}, nullptr);
  std::mutex order_mutex;
  std::vector<std::string> order;
  auto record = [&](const std::string& name) {
    std::lock_guard<std::mutex> lock(order_mutex);
    order.push_back(name);
  };
  auto [long_job, long_outcome] = make_job(nullptr, "Once upon a time", 40);
  long_job->options.stop_at_eos = false;
  std::promise<void> held, release;
  auto release_signal = release.get_future().share();
  int deltas = 0;
  long_job->on_text = [&, release_signal](size_t, const std::string&) {
    if (++deltas == 3) {
      held.set_value();
      release_signal.wait();
    }
    return true;
  };
  auto long_done = long_job->on_done;
  long_job->on_done = [&, long_done](std::vector<GenerationResult> r) {
    record("long");
    long_done(std::move(r));
  };
  ASSERT_TRUE(scheduler.submit(long_job));
  held.get_future().wait();

  const auto someone = user(3, 1);
  auto [short_job, short_outcome] = make_job(someone, "A ball in the park", 4);
  auto short_done = short_job->on_done;
  short_job->on_done = [&, short_done](std::vector<GenerationResult> r) {
    record("short");
    short_done(std::move(r));
  };
  auto [sampled_job, sampled_outcome] = make_job(nullptr, "The cat", 5, /*n=*/2);
  sampled_job->options.temperature = 0.8f;
  sampled_job->options.seed = 11;
  ASSERT_TRUE(scheduler.submit(short_job));
  ASSERT_TRUE(scheduler.submit(sampled_job));
  release.set_value();

  const Outcome long_got = long_outcome.get(), short_got = short_outcome.get();
  const Outcome sampled_got = sampled_outcome.get();
  ASSERT_EQ(long_got.status, 0) << long_got.error;
  ASSERT_EQ(short_got.status, 0) << short_got.error;
  ASSERT_EQ(sampled_got.status, 0) << sampled_got.error;
  EXPECT_EQ(order, (std::vector<std::string>{"short", "long"}));
  Generator plain(tiny_.llm.model, tiny_.llm.tokenizer);
  GenerationOptions o;
  o.max_new_tokens = 40;
  o.stop_at_eos = false;
  EXPECT_EQ(long_got.results[0].generated_ids, plain.generate("Once upon a time", o).generated_ids);
  EXPECT_EQ(long_got.results[0].generated_ids.size(), 40u);
  o = GenerationOptions{};
  o.max_new_tokens = 4;
  EXPECT_EQ(short_got.results[0].generated_ids,
            tiny_.plug->generate(someone->embedding, "A ball in the park", o).generated_ids);
  o = sampled_job->options;
  o.on_text = nullptr;
  const auto sampled_alone = plain.generate(std::vector<std::string>{"The cat", "The cat"}, o);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(sampled_got.results[i].generated_ids, sampled_alone[i].generated_ids) << i;
  }
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

}  // namespace
}  // namespace pplug::serve
