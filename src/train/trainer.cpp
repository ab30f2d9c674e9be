// The training loop: batches, loss on target tokens, AdamW with warm-up and linear decay,
// clipping, dev evaluation, best/last checkpoints, interruption and resumption.
#include <ATen/ATen.h>
// clip_grad.h names torch::Tensor without declaring it (the PCH hid this): types.h first.
#include <torch/types.h>

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/distributed.h"
#include "pplug/error.h"
#include "pplug/trainer.h"
#include "train/batch_loss.h"
#include "train/epoch_order.h"
#include "train/train_data.h"
#include "util/compute_threads.h"
#include "util/file_io.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/progress.h"

namespace pplug {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};
constexpr const char* kRunMarker = "train_run.json";

double learning_rate(const TrainOptions& o, int64_t step, int64_t total) {
  const auto warmup = static_cast<int64_t>(std::ceil(o.warmup_ratio * static_cast<double>(total)));
  if (step < warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double left =
      static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return o.lr * std::max(0.0, left);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// What a killed run can leave behind: the marker's temporary file, the checkpoint swap folders
// (save_resumable) and PersonaPlug::save's folders for best/.
bool is_leftover(const std::string& name) {
  return starts_with(name, std::string(kRunMarker) + ".tmp.") || name == "last.tmp" ||
         name == "last.old" || starts_with(name, "best.tmp-") || starts_with(name, "best.old-");
}

bool is_run_file(const std::string& name) {
  return name == kRunMarker || name == "last" || name == "best" || name == "metrics.jsonl";
}

// A swap of `name` killed half-way leaves `name` missing and its complete new version (`fresh`
// holds `complete_file`) or its old version beside it: put one back (the newest complete one).
void recover_folder(const fs::path& out, const std::string& name,
                    const std::vector<std::string>& leftovers, const std::string& fresh_prefix,
                    const std::string& old_prefix, const std::string& complete_file) {
  std::error_code ec;
  if (fs::exists(out / name)) return;
  for (const auto& prefix : {fresh_prefix, old_prefix}) {
    for (const auto& left : leftovers) {
      if (!starts_with(left, prefix)) continue;
      if (prefix == fresh_prefix && !fs::exists(out / left / complete_file)) continue;
      fs::rename(out / left, out / name, ec);
      if (!ec) {
        PPLUG_LOG_WARN("{}: recovered {}/ from {}/ left by an interrupted run", out.string(), name,
                       left);
        return;
      }
    }
  }
}

// Cleans up after a run that was killed: recovers last/ and best/ from a half-done swap, then
// removes the temporaries. Only in a folder that holds nothing but a training run's files.
void recover_killed_run(const fs::path& out) {
  std::error_code ec;
  std::vector<std::string> leftovers;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    const std::string name = entry.path().filename().string();
    if (is_leftover(name)) {
      leftovers.push_back(name);
    } else if (!is_run_file(name)) {
      return;  // someone else's folder: prepare_out_dir refuses it
    }
  }
  if (leftovers.empty()) return;
  std::sort(leftovers.begin(), leftovers.end());
  // last.tmp is complete once its state.json exists (written last); last.old is the previous.
  recover_folder(out, "last", leftovers, "last.tmp", "last.old", "state.json");
  recover_folder(out, "best", leftovers, "best.tmp-", "best.old-", "manifest.json");
  for (const auto& left : leftovers) {
    if (fs::exists(out / left)) fs::remove_all(out / left, ec);
  }
}

void prepare_out_dir(const std::string& out, bool resuming) {
  if (out.empty()) throw InvalidArgument("training needs an output folder");
  std::error_code ec;
  if (fs::is_directory(out, ec)) recover_killed_run(fs::path(out));
  if (fs::exists(out) && !fs::is_empty(out, ec) && !fs::exists(fs::path(out) / kRunMarker)) {
    throw InvalidArgument(out +
                          ": exists and holds something other than a pplug training run; "
                          "refusing to overwrite it");
  }
  if (!resuming && fs::exists(fs::path(out) / kRunMarker) && fs::exists(fs::path(out) / "last")) {
    PPLUG_LOG_WARN("{} holds an earlier run; its checkpoints will be replaced", out);
  }
  fs::create_directories(out, ec);
  if (ec) throw Error(out + ": cannot create: " + ec.message());
}

// last/ = plugin/ + optimizer.pt + state.json, swapped in whole.
void save_resumable(const PersonaPlug& plug, torch::optim::AdamW& optimizer, const std::string& out,
                    const json& state) {
  const fs::path last = fs::path(out) / "last";
  const fs::path tmp = fs::path(out) / "last.tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  plug.save((tmp / "plugin").string());
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  archive.save_to((tmp / "optimizer.pt").string());
  detail::write_file_atomic((tmp / "state.json").string(), state.dump(2) + "\n");
  const fs::path old = fs::path(out) / "last.old";
  fs::remove_all(old, ec);
  if (fs::exists(last)) fs::rename(last, old);
  fs::rename(tmp, last);
  fs::remove_all(old, ec);
}

// What every rank must agree on before a data-parallel run starts: the questions, their golds
// and the order they come in.
std::string split_digest(const LabelledSplit& split) {
  detail::Hasher h;
  for (const auto& q : split.questions) {
    h.text(q.id);
    h.text(q.input);
    h.u64(q.profile.size());
  }
  for (const auto& g : split.golds) {
    h.text(g.id);
    h.text(g.output);
  }
  return h.hex();
}

// Sums every rank's gradients (undefined ones count as zero) and the `extra` numbers (loss,
// stop flag) in one allreduce.
void allreduce_step(Communicator& comm, const std::vector<torch::Tensor>& params,
                    std::vector<double>& extra) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : params) {
    parts.push_back(p.grad().defined() ? p.grad().reshape({-1}) : at::zeros({p.numel()}));
  }
  parts.push_back(at::tensor(extra, at::kDouble).to(at::kFloat));
  auto flat = at::cat(parts);
  comm.allreduce_sum(flat);
  int64_t at = 0;
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    auto summed = flat.narrow(0, at, p.numel()).view(p.sizes());
    if (p.grad().defined()) {
      p.mutable_grad().copy_(summed);
    } else {
      p.mutable_grad() = summed.clone();
    }
    at += p.numel();
  }
  for (size_t i = 0; i < extra.size(); ++i)
    extra[i] = flat[at + static_cast<int64_t>(i)].item<double>();
}

}  // namespace

void request_training_stop() { g_stop.store(true); }

namespace {

// What a resume starts from: `resume_dir`, or "" (a fresh start) when it is the run's own
// OUT/last and that holds no checkpoint yet: a run killed before its first checkpoint leaves
// nothing to resume, and `--resume OUT/last` (what a script retrying a run always passes) then
// means starting over. Any other folder without a checkpoint is an error.
std::string resume_point(const std::string& resume_dir, const std::string& out_dir) {
  if (resume_dir.empty() || fs::exists(fs::path(resume_dir) / "state.json")) return resume_dir;
  std::error_code ec;
  const auto own = fs::weakly_canonical(fs::path(out_dir) / "last", ec);
  if (!ec && fs::weakly_canonical(resume_dir, ec) == own && !ec) {
    PPLUG_LOG_WARN(
        "{} holds no checkpoint yet (the run stopped before its first one): "
        "starting from the beginning",
        resume_dir);
    return "";
  }
  throw InvalidArgument(resume_dir +
                        ": no checkpoint to resume from (no state.json); give the last/ folder "
                        "of an interrupted run");
}

}  // namespace

TrainSummary train_plugin(PersonaPlug& plug, const LabelledSplit& train, const TrainOptions& o,
                          const DevEvaluator& dev, const std::string& requested_resume) {
  if (o.epochs < 1 || o.batch_size < 1 || o.grad_accum < 1 || !(o.lr > 0)) {
    throw InvalidArgument("training: epochs, batch_size, grad_accum and lr must be positive");
  }
  if (o.prefix_cache_mb < 0) {
    throw InvalidArgument("training: prefix_cache_mb must be >= 0, got " +
                          std::to_string(o.prefix_cache_mb));
  }
  for (const auto& [name, value] : {std::pair<const char*, double>{"lr", o.lr},
                                    {"weight_decay", o.weight_decay},
                                    {"warmup_ratio", o.warmup_ratio},
                                    {"max_grad_norm", o.max_grad_norm}}) {
    if (!std::isfinite(value) || value < 0) {
      throw InvalidArgument(std::string("training: ") + name +
                            " must be a finite number >= 0, got " + std::to_string(value));
    }
  }
  Communicator* comm = o.communicator.get();
  const int rank = comm != nullptr ? comm->rank() : 0;
  const int world = comm != nullptr ? comm->world_size() : 1;
  const bool writer = rank == 0;  // the one rank that writes out_dir
  if (writer) {
    prepare_out_dir(o.out_dir, !requested_resume.empty());
  } else if (o.out_dir.empty()) {
    throw InvalidArgument("training needs an output folder");
  }
  const std::string resume_dir = resume_point(requested_resume, o.out_dir);
  g_stop.store(false);
  detail::keep_freed_tensor_memory();
  if (comm != nullptr) comm->check_same("training data (questions and golds)", split_digest(train));
  const auto data = detail::prepare_train_data(plug, train, o, detail::Shard{rank, world});
  auto& module = detail::PluginTraining::module(plug);
  module.train();
  std::vector<torch::Tensor> params;
  for (auto& p : module.parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  torch::optim::AdamW optimizer(params,
                                torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  const size_t n = data.examples.size();
  // The global micro-batch: every rank's batch_size examples together.
  const int64_t global_batch = static_cast<int64_t>(o.batch_size) * world;
  const int64_t per_step = global_batch * o.grad_accum;
  const int64_t steps_per_epoch = (static_cast<int64_t>(n) + per_step - 1) / per_step;
  const int64_t total_steps = steps_per_epoch * o.epochs;
  const json run = {{"examples", n},
                    {"epochs", o.epochs},
                    {"batch_size", global_batch},
                    {"grad_accum", o.grad_accum},
                    {"seed", o.seed},
                    {"lr", o.lr},
                    {"history_dropout_copies", o.history_dropout_copies}};

  int start_epoch = 0;
  int64_t start_step_in_epoch = 0, global_step = 0;
  double best_dev = 0.0;
  bool have_best = false;
  if (!resume_dir.empty()) {
    const std::string state_path = (fs::path(resume_dir) / "state.json").string();
    json saved_run;
    try {
      const json state = json::parse(detail::read_file(state_path));
      start_epoch = state.at("epoch").get<int>();
      start_step_in_epoch = state.at("step_in_epoch").get<int64_t>();
      global_step = state.at("global_step").get<int64_t>();
      have_best = state.at("have_best").get<bool>();
      best_dev = state.at("best_dev").get<double>();
      saved_run = state.at("run");
    } catch (const std::exception& e) {  // FormatError from read_file, or nlohmann's
      throw FormatError(state_path + ": not a training checkpoint's state (" + e.what() + ")");
    }
    if (saved_run != run) {
      throw MismatchError(resume_dir + ": was saved by a run with other data or options: " +
                          saved_run.dump() + " vs " + run.dump());
    }
    detail::PluginTraining::load_weights(
        plug, (fs::path(resume_dir) / "plugin" / "plugin.safetensors").string());
    torch::serialize::InputArchive archive;
    archive.load_from((fs::path(resume_dir) / "optimizer.pt").string());
    optimizer.load(archive);
    PPLUG_LOG_INFO("resuming at epoch {} step {}", start_epoch + 1, global_step);
  }
  if (comm != nullptr) {
    // Every rank starts from rank 0's weights (the same seed gives the same ones; a resume
    // reads the same files): checked, then made bit-identical.
    comm->check_same("training run (examples, batch, epochs, seed, lr)", run.dump());
    comm->check_same("resume point",
                     resume_dir.empty() ? "fresh start" : "step " + std::to_string(global_step));
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> values;
    for (auto& p : module.parameters()) values.push_back(p.detach());
    comm->broadcast(values, 0);
  }
  // Appended to (a resumed run keeps the earlier lines) and flushed line by line, so a killed
  // run loses no line it wrote.
  std::ofstream metrics;
  if (writer) {
    detail::write_file_atomic((fs::path(o.out_dir) / kRunMarker).string(), run.dump(2) + "\n");
    const std::string metrics_path = (fs::path(o.out_dir) / "metrics.jsonl").string();
    metrics.open(metrics_path, std::ios::app);
    if (!metrics) throw Error(metrics_path + ": cannot open for appending");
  }
  auto log_metrics = [&](const json& line) {
    if (!writer) return;
    metrics << line.dump() << "\n";
    metrics.flush();
  };
  if (!resume_dir.empty()) log_metrics({{"resumed_at_step", global_step}, {"from", resume_dir}});

  TrainSummary summary;
  detail::Progress progress(total_steps, o.progress_bar && writer,
                            writer ? o.log_every : std::numeric_limits<int>::max());
  // A run that goes non-finite stops before it can write a checkpoint: last/ and best/ keep
  // the last good state.
  auto diverged = [&](const std::string& what, int epoch, int64_t step) {
    progress.finish();
    log_metrics({{"step", step}, {"epoch", epoch + 1}, {"diverged", what}});
    return Error("training diverged at step " + std::to_string(step) + " (epoch " +
                 std::to_string(epoch + 1) + "): " + what + "; nothing was saved for it, " +
                 o.out_dir + "/last and " + o.out_dir +
                 "/best keep the last good checkpoint (try a lower --lr)");
  };
  // Checked before every save: a checkpoint never holds a non-finite weight.
  auto require_finite_weights = [&](int epoch) {
    torch::NoGradGuard no_grad;
    for (const auto& p : module.named_parameters()) {
      if (!at::isfinite(p.value()).all().item<bool>()) {
        throw diverged("weight '" + p.key() + "' is no longer finite", epoch, global_step);
      }
    }
  };
  // Timed from here: the frozen prefixes are part of what training costs.
  const auto t0 = std::chrono::steady_clock::now();
  const detail::FrozenPrefixes prefixes(plug, data,
                                        static_cast<size_t>(o.prefix_cache_mb) * 1000 * 1000);
  int64_t examples_seen = 0;
  auto state_json = [&](int epoch, int64_t step_in_epoch) {
    return json{{"run", run},
                {"epoch", epoch},
                {"step_in_epoch", step_in_epoch},
                {"global_step", global_step},
                {"have_best", have_best},
                {"best_dev", best_dev}};
  };
  for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
    const auto order = detail::epoch_order(n, o.seed, epoch);
    double epoch_loss = 0.0;
    int64_t epoch_batches = 0;
    const int64_t first_step = epoch == start_epoch ? start_step_in_epoch : 0;
    for (int64_t s = first_step; s < steps_per_epoch; ++s) {
      optimizer.zero_grad();
      double step_loss = 0.0;
      for (int a = 0; a < o.grad_accum; ++a) {
        // This rank's examples of the global micro-batch; the loss is normalized by the target
        // tokens of all of it, so the ranks' gradients sum to the one-process gradient.
        std::vector<const detail::TrainExample*> batch;
        int64_t target_tokens = 0;
        for (int64_t k = 0; k < global_batch; ++k) {
          const int64_t pos = (s * o.grad_accum + a) * global_batch + k;
          if (pos >= static_cast<int64_t>(n)) break;
          const auto& ex = data.examples[order[pos]];
          target_tokens += static_cast<int64_t>(ex.target.size());
          ++examples_seen;
          if (ex.local) batch.push_back(&ex);
        }
        if (batch.empty()) continue;
        auto loss =
            detail::batch_loss(plug, module, data, prefixes, batch, target_tokens) / o.grad_accum;
        loss.backward();
        step_loss += loss.item<double>();
      }
      // Whether to stop after this step. With several ranks only the value agreed in the
      // allreduce counts: a signal that lands after it is seen by this rank alone, and acting on
      // it would leave the others waiting in the next step's allreduce. It is carried next step.
      bool stop_requested = g_stop.load();
      if (comm != nullptr) {
        // One allreduce per step: the gradients, the loss and whether any rank was told to stop.
        std::vector<double> extra = {step_loss, stop_requested ? 1.0 : 0.0};
        allreduce_step(*comm, params, extra);
        step_loss = extra[0];
        stop_requested = extra[1] > 0;
      }
      if (!std::isfinite(step_loss)) {
        throw diverged("the loss is " + std::to_string(step_loss), epoch, global_step + 1);
      }
      double grad_norm = 0.0;
      if (o.max_grad_norm > 0) {
        grad_norm = torch::nn::utils::clip_grad_norm_(params, o.max_grad_norm);
        if (!std::isfinite(grad_norm)) {
          throw diverged("the gradient norm is " + std::to_string(grad_norm), epoch,
                         global_step + 1);
        }
      }
      const double lr = learning_rate(o, global_step, total_steps);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      optimizer.step();
      ++global_step;
      epoch_loss += step_loss;
      ++epoch_batches;
      if (summary.first_loss == 0.0) summary.first_loss = step_loss;
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double eps = secs > 0 ? examples_seen / secs : 0.0;
      log_metrics({{"step", global_step},
                   {"epoch", epoch + 1},
                   {"loss", step_loss},
                   {"lr", lr},
                   {"grad_norm", grad_norm},
                   {"examples_per_s", eps}});
      progress.update(global_step, epoch + 1, step_loss, eps);
      if (stop_requested || (o.stop_at_step > 0 && global_step >= o.stop_at_step)) {
        progress.finish();
        require_finite_weights(epoch);
        if (writer) save_resumable(plug, optimizer, o.out_dir, state_json(epoch, s + 1));
        detail::PluginTraining::refresh_fingerprint(plug);
        if (writer) PPLUG_LOG_WARN("interrupted: resumable state saved in {}/last", o.out_dir);
        // No rank leaves before rank 0 has saved: a rank that exits (with an error, as an
        // interrupted run does) makes a launcher stop the others.
        if (comm != nullptr) comm->barrier();
        summary.interrupted = true;
        summary.steps = global_step;
        return summary;
      }
    }
    summary.last_loss = epoch_batches > 0 ? epoch_loss / epoch_batches : 0.0;
    require_finite_weights(epoch);
    detail::PluginTraining::refresh_fingerprint(plug);
    module.eval();
    if (dev) {
      const auto [value, higher_better] = dev(plug);
      log_metrics({{"epoch", epoch + 1}, {"dev", value}});
      PPLUG_LOG_INFO("epoch {}: train loss {:.4f}, dev {:.4f}", epoch + 1, summary.last_loss,
                     value);
      if (!have_best || (higher_better ? value > best_dev : value < best_dev)) {
        best_dev = value;
        have_best = true;
        require_finite_weights(epoch);
        if (writer) plug.save((fs::path(o.out_dir) / "best").string());
      }
    } else if (writer) {
      plug.save((fs::path(o.out_dir) / "best").string());
    }
    module.train();
    require_finite_weights(epoch);
    if (writer) save_resumable(plug, optimizer, o.out_dir, state_json(epoch + 1, 0));
  }
  progress.finish();
  module.eval();
  detail::PluginTraining::refresh_fingerprint(plug);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.steps = global_step;
  summary.best_dev = best_dev;
  summary.examples_per_second = secs > 0 ? examples_seen / secs : 0.0;
  return summary;
}

}  // namespace pplug
