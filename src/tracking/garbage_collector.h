// Garbage collection of deleted runs and experiments: `plinth gc`, modelled on `mlflow gc`.
// Deleting a run or experiment through the API only marks it deleted (it can be restored); the
// collector removes for good what has been deleted for long enough: first the artifacts, then
// the rows. A run whose artifacts cannot be deleted keeps its rows, so the next collection
// retries it and no artifact is ever left without a row that points at it.
//
// The collector knows no artifact store: the caller passes an ArtifactDeleter (the CLI maps
// URIs to stores; tests inject failures). Not thread-safe; run one collection at a time.
#ifndef PLINTH_TRACKING_GARBAGE_COLLECTOR_H_
#define PLINTH_TRACKING_GARBAGE_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/metadata_store.h"

namespace plinth::tracking {

// Parses an age in mlflow gc's --older-than format, #d#h#m#s with any of the parts present and
// decimals allowed ("30d", "1d2h3m4s", "1.5h", "90s"). Returns milliseconds.
// Failure: kInvalidArgument with examples.
Result<int64_t> ParseAge(std::string_view text);

struct GcOptions {
  // Only runs deleted, and experiments last updated, longer ago than this; nullopt: any.
  std::optional<int64_t> older_than_ms;
  // Narrow the collection: only these runs, and these experiments with all their runs. Each
  // must exist, be deleted and be old enough, or nothing is collected. Both empty: every
  // deleted run and experiment old enough.
  std::vector<std::string> run_ids;
  std::vector<std::string> experiment_ids;
  bool dry_run = false;  // report what would be removed, remove nothing
};

// Deletes everything stored under `artifact_uri`, the artifact root of the run or logged model
// `owner_id`. OK when there is nothing to delete; a failure keeps the owner's rows.
using ArtifactDeleter =
    std::function<Status(const std::string& artifact_uri, const std::string& owner_id)>;

struct GcFailure {
  std::string what;  // "run <id>", "logged model <id>", "experiment <id>"
  Status status;
};

struct GcReport {
  // Removed (or, in a dry run, to be removed).
  std::vector<std::string> runs;
  std::vector<std::string> experiments;
  std::vector<std::string> logged_models;  // removed with their experiments
  // Left for the next collection (artifacts that could not be deleted, an experiment that
  // still has an active run).
  std::vector<GcFailure> failures;
};

// Collects. The selection is checked whole before anything is deleted. Failure: kNotFound for
// a named run or experiment that does not exist; kFailedPrecondition for one that is active or
// not old enough; the store's error when listing fails. Failures of single runs during the
// collection are in the report, not the status.
Result<GcReport> CollectGarbage(store::MetadataStore& store, const GcOptions& options,
                                const ArtifactDeleter& delete_artifacts, int64_t now);

}  // namespace plinth::tracking

#endif  // PLINTH_TRACKING_GARBAGE_COLLECTOR_H_
