#include "tracking/garbage_collector.h"

#include <charconv>
#include <cmath>
#include <set>
#include <unordered_set>

namespace plinth::tracking {
namespace {

using store::Experiment;
using store::LifecycleStage;
using store::MetadataStore;
using store::RunInfo;

Status AgeError(std::string_view text) {
  return InvalidArgument("cannot read the age '" + std::string(text) +
                         "': write it as #d#h#m#s, e.g. 30d, 8h, 2d8h5m20s, 1.5h");
}

std::vector<std::string> Unique(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const std::string& id : ids) {
    if (!id.empty() && seen.insert(id).second) out.push_back(id);
  }
  return out;
}

// What one collection will remove, decided before anything is removed.
struct Plan {
  std::vector<RunInfo> runs;  // deleted runs, each once
  struct ExperimentPlan {
    Experiment experiment;
    std::vector<store::LoggedModel> models;
  };
  std::vector<ExperimentPlan> experiments;
};

Result<Plan> MakePlan(MetadataStore& store, const GcOptions& options,
                      std::optional<int64_t> threshold, GcReport* report) {
  Plan plan;
  const std::vector<std::string> run_ids = Unique(options.run_ids);
  const std::vector<std::string> experiment_ids = Unique(options.experiment_ids);
  const bool narrowed = !run_ids.empty() || !experiment_ids.empty();
  const std::string age = threshold ? " deleted longer ago than --older-than" : "";

  // Experiments.
  std::vector<Experiment> experiments;
  if (!experiment_ids.empty()) {
    for (const std::string& id : experiment_ids) {
      PLINTH_ASSIGN_OR_RETURN(Experiment e, store.GetExperiment(id));
      if (e.experiment_id == "0") {
        return FailedPrecondition("the Default experiment 0 cannot be permanently deleted");
      }
      if (e.lifecycle_stage != LifecycleStage::kDeleted) {
        return FailedPrecondition("Experiment " + id +
                                  " is not in the deleted lifecycle stage; only deleted "
                                  "experiments can be permanently deleted");
      }
      if (threshold && e.last_update_time >= *threshold) {
        return FailedPrecondition("Experiment " + id + " was not" + age);
      }
      experiments.push_back(std::move(e));
    }
  } else if (!narrowed) {
    PLINTH_ASSIGN_OR_RETURN(experiments, store.ListDeletedExperiments(threshold));
  }

  // Runs named or old enough, then every run of the experiments above.
  std::set<std::string> planned;
  if (!run_ids.empty()) {
    std::unordered_set<std::string> old_enough;
    if (threshold) {
      PLINTH_ASSIGN_OR_RETURN(std::vector<RunInfo> old, store.ListDeletedRuns(threshold));
      for (const RunInfo& r : old) old_enough.insert(r.run_id);
    }
    for (const std::string& id : run_ids) {
      PLINTH_ASSIGN_OR_RETURN(store::Run run, store.GetRun(id));
      if (run.info.lifecycle_stage != LifecycleStage::kDeleted) {
        return FailedPrecondition("Run " + id +
                                  " is not in the deleted lifecycle stage; only deleted runs "
                                  "can be permanently deleted");
      }
      if (threshold && old_enough.count(id) == 0) {
        return FailedPrecondition("Run " + id + " was not" + age);
      }
      planned.insert(id);
      plan.runs.push_back(std::move(run.info));
    }
  } else if (!narrowed) {
    PLINTH_ASSIGN_OR_RETURN(std::vector<RunInfo> old, store.ListDeletedRuns(threshold));
    for (RunInfo& r : old) {
      planned.insert(r.run_id);
      plan.runs.push_back(std::move(r));
    }
  }
  for (Experiment& e : experiments) {
    if (e.experiment_id == "0") continue;  // every store keeps its Default experiment
    PLINTH_ASSIGN_OR_RETURN(store::ExperimentContents contents,
                            store.ListExperimentContents(e.experiment_id));
    const RunInfo* active = nullptr;
    for (const RunInfo& r : contents.runs) {
      if (r.lifecycle_stage != LifecycleStage::kDeleted) active = &r;
    }
    if (active != nullptr) {
      // A run restored after its experiment was deleted: removing it would lose live data.
      Status s = FailedPrecondition("Experiment " + e.experiment_id + " still has the active run " +
                                    active->run_id + "; delete it or restore the experiment");
      if (!experiment_ids.empty()) return s;  // named explicitly: refuse the whole call
      report->failures.push_back({"experiment " + e.experiment_id, std::move(s)});
      continue;
    }
    for (RunInfo& r : contents.runs) {
      if (planned.insert(r.run_id).second) plan.runs.push_back(std::move(r));
    }
    plan.experiments.push_back({std::move(e), std::move(contents.models)});
  }
  return plan;
}

}  // namespace

Result<int64_t> ParseAge(std::string_view text) {
  static constexpr struct {
    char unit;
    double ms;
  } kUnits[] = {{'d', 86400e3}, {'h', 3600e3}, {'m', 60e3}, {'s', 1e3}};
  if (text.empty()) return AgeError(text);
  double total = 0;
  size_t next_unit = 0;  // units must come in d, h, m, s order, each at most once
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() &&
           (std::isdigit(static_cast<unsigned char>(rest[digits])) || rest[digits] == '.')) {
      ++digits;
    }
    if (digits == 0 || digits == rest.size()) return AgeError(text);
    double value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + digits, value);
    if (ec != std::errc() || end != rest.data() + digits) return AgeError(text);
    char unit = rest[digits];
    while (next_unit < std::size(kUnits) && kUnits[next_unit].unit != unit) ++next_unit;
    if (next_unit == std::size(kUnits)) return AgeError(text);
    total += value * kUnits[next_unit].ms;
    ++next_unit;
    rest.remove_prefix(digits + 1);
  }
  if (!(total < 1e17)) return AgeError(text);  // about 3 million years
  return static_cast<int64_t>(std::llround(total));
}

Result<GcReport> CollectGarbage(store::MetadataStore& store, const GcOptions& options,
                                const ArtifactDeleter& delete_artifacts, int64_t now) {
  std::optional<int64_t> threshold;
  if (options.older_than_ms) threshold = now - *options.older_than_ms;
  GcReport report;
  PLINTH_ASSIGN_OR_RETURN(Plan plan, MakePlan(store, options, threshold, &report));
  if (options.dry_run) {
    for (const RunInfo& r : plan.runs) report.runs.push_back(r.run_id);
    for (const auto& e : plan.experiments) {
      report.experiments.push_back(e.experiment.experiment_id);
      for (const auto& m : e.models) report.logged_models.push_back(m.model_id);
    }
    return report;
  }

  // Artifacts first, rows after: an experiment with a run left behind stays for the next time.
  std::set<std::string> blocked_experiments;
  for (const RunInfo& r : plan.runs) {
    Status s = delete_artifacts(r.artifact_uri, r.run_id);
    if (s.ok()) {
      s = store.PurgeRun(r.run_id);
      if (s.code() == StatusCode::kNotFound) s = Status::Ok();  // another gc was faster
    }
    if (s.ok()) {
      report.runs.push_back(r.run_id);
    } else {
      report.failures.push_back({"run " + r.run_id, std::move(s)});
      blocked_experiments.insert(r.experiment_id);
    }
  }
  for (const auto& e : plan.experiments) {
    const std::string& id = e.experiment.experiment_id;
    if (blocked_experiments.count(id) > 0) {
      report.failures.push_back(
          {"experiment " + id, FailedPrecondition("kept until all its runs are removed")});
      continue;
    }
    bool models_gone = true;
    for (const auto& m : e.models) {
      Status s = delete_artifacts(m.artifact_uri, m.model_id);
      if (!s.ok()) {
        report.failures.push_back({"logged model " + m.model_id, std::move(s)});
        models_gone = false;
      }
    }
    if (!models_gone) {
      report.failures.push_back(
          {"experiment " + id, FailedPrecondition("kept until its logged models' artifacts "
                                                  "are deleted")});
      continue;
    }
    Status s = store.PurgeExperiment(id);
    if (!s.ok()) {
      report.failures.push_back({"experiment " + id, std::move(s)});
      continue;
    }
    report.experiments.push_back(id);
    for (const auto& m : e.models) report.logged_models.push_back(m.model_id);
  }
  return report;
}

}  // namespace plinth::tracking
