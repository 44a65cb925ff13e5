#include "cli/gc_command.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "store/metadata_store.h"
#include "tracking/garbage_collector.h"

namespace plinth {
namespace {

constexpr std::string_view kProxyScheme = "mlflow-artifacts:";
constexpr std::string_view kFileScheme = "file://";

std::vector<std::string> SplitIds(const std::string& list) {
  std::vector<std::string> out;
  std::string_view rest = list;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view id = rest.substr(0, comma);
    while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    if (!id.empty()) out.emplace_back(id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

// A local folder a store URI names, or nullopt for a remote store.
std::optional<std::string> LocalFolder(std::string_view uri) {
  if (uri.substr(0, kFileScheme.size()) == kFileScheme) {
    return std::string(uri.substr(kFileScheme.size()));
  }
  if (uri.find("://") != std::string_view::npos) return std::nullopt;
  return std::string(uri);
}

// Where the owner's own folder starts in `location`, its artifact root: plinth and MLflow give
// every run "<experiment location>/<run_id>/artifacts" and every logged model
// "<experiment location>/models/<model_id>/artifacts", and gc deletes that folder
// ("<…>/<owner>"). A location that does not end so might be shared with others and is left
// alone (nullopt).
std::optional<size_t> OwnerFolderStart(std::string_view location, std::string_view owner) {
  while (!location.empty() && location.back() == '/') location.remove_suffix(1);
  constexpr std::string_view kArtifacts = "/artifacts";
  if (location.size() > kArtifacts.size() &&
      location.substr(location.size() - kArtifacts.size()) == kArtifacts) {
    location.remove_suffix(kArtifacts.size());
  }
  if (owner.empty() || location.size() < owner.size() ||
      location.substr(location.size() - owner.size()) != owner) {
    return std::nullopt;
  }
  size_t start = location.size() - owner.size();
  if (start > 0 && location[start - 1] != '/') return std::nullopt;
  return start;
}

// Deletes a run's or logged model's artifacts: mlflow-artifacts:/ paths in the proxy's
// destination store, other URIs in the store they name (opened once per root and kept).
class ArtifactRemover {
 public:
  explicit ArtifactRemover(std::string destination) : destination_(std::move(destination)) {}

  Status Delete(const std::string& uri, const std::string& owner) {
    std::string root;
    std::string folder;
    if (std::string_view(uri).substr(0, kProxyScheme.size()) == kProxyScheme) {
      std::string_view path = std::string_view(uri).substr(kProxyScheme.size());
      if (path.substr(0, 2) == "//") {  // mlflow-artifacts://host:port/path
        size_t slash = path.find('/', 2);
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
      }
      while (!path.empty() && path.front() == '/') path.remove_prefix(1);
      auto start = OwnerFolderStart(path, owner);
      if (!start) return OddLocation(uri);
      root = destination_;
      folder = std::string(path.substr(0, *start + owner.size()));
      if (auto local = LocalFolder(root); local && !std::filesystem::is_directory(*local)) {
        // Deleting "nothing" here would purge rows whose artifacts live somewhere else.
        return FailedPrecondition("--artifacts-destination '" + destination_ +
                                  "' is not a folder: pass the one `plinth server "
                                  "--artifacts-destination` uses");
      }
    } else {
      auto start = OwnerFolderStart(uri, owner);
      if (!start || *start < 2) return OddLocation(uri);
      root = uri.substr(0, *start - 1);
      folder = owner;
      if (auto local = LocalFolder(root); local && !std::filesystem::exists(*local)) {
        return Status::Ok();  // nothing was ever stored there
      }
    }
    PLINTH_ASSIGN_OR_RETURN(std::string checked,
                            artifacts::NormalizeArtifactPath(folder, /*allow_empty=*/false));
    PLINTH_ASSIGN_OR_RETURN(artifacts::ArtifactStore * store, StoreFor(root));
    return store->Delete(checked);
  }

 private:
  static Status OddLocation(const std::string& uri) {
    return FailedPrecondition("artifact location '" + uri +
                              "' does not end in its run's or model's own folder; delete its "
                              "artifacts by hand and run gc again with them gone");
  }

  Result<artifacts::ArtifactStore*> StoreFor(const std::string& root) {
    auto it = stores_.find(root);
    if (it == stores_.end()) {
      PLINTH_ASSIGN_OR_RETURN(auto store, artifacts::OpenArtifactStoreFromUri(root));
      it = stores_.emplace(root, std::move(store)).first;
    }
    return it->second.get();
  }

  std::string destination_;
  std::map<std::string, std::unique_ptr<artifacts::ArtifactStore>> stores_;
};

}  // namespace

int RunGcCommand(const GcCommandOptions& options, std::ostream& out, std::ostream& err,
                 int64_t now) {
  if (Status s = store::CheckStoreUri(options.backend_store_uri); !s.ok()) {
    err << "plinth gc: --backend-store-uri: " << s.message() << "\n";
    return 2;
  }
  if (options.artifacts_destination.empty()) {
    err << "plinth gc: --artifacts-destination is empty\n";
    return 2;
  }
  tracking::GcOptions gc;
  if (!options.older_than.empty()) {
    auto age = tracking::ParseAge(options.older_than);
    if (!age.ok()) {
      err << "plinth gc: --older-than: " << age.status().message() << "\n";
      return 2;
    }
    gc.older_than_ms = *age;
  }
  gc.run_ids = SplitIds(options.run_ids);
  gc.experiment_ids = SplitIds(options.experiment_ids);
  gc.dry_run = options.dry_run;

  store::StoreOpenOptions store_options;
  store_options.pool_size = 2;
  auto metadata = store::OpenStoreFromUri(options.backend_store_uri, store_options, now);
  if (!metadata.ok()) {
    err << "plinth gc: " << metadata.status().message() << "\n";
    return 1;
  }
  ArtifactRemover remover(options.artifacts_destination);
  auto report = tracking::CollectGarbage(
      **metadata, gc,
      [&remover](const std::string& uri, const std::string& owner) {
        return remover.Delete(uri, owner);
      },
      now);
  if (!report.ok()) {
    err << "plinth gc: " << report.status().message() << "\n";
    return 1;
  }
  auto say = [&](const char* what, const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      if (options.dry_run) {
        out << "Would permanently delete " << what << " " << id << "\n";
      } else {
        out << what << " with ID " << id << " has been permanently deleted.\n";
      }
    }
  };
  say(options.dry_run ? "run" : "Run", report->runs);
  say(options.dry_run ? "logged model" : "Logged model", report->logged_models);
  say(options.dry_run ? "experiment" : "Experiment", report->experiments);
  for (const tracking::GcFailure& f : report->failures) {
    err << "plinth gc: kept " << f.what << " for the next gc: " << f.status.message() << "\n";
  }
  out << "gc: " << report->runs.size() << " runs, " << report->experiments.size()
      << " experiments, " << report->logged_models.size() << " logged models "
      << (options.dry_run ? "would be permanently deleted" : "permanently deleted");
  if (!report->failures.empty()) out << "; " << report->failures.size() << " kept (see above)";
  out << "\n";
  return report->failures.empty() ? 0 : 1;
}

GcCli::GcCli(CLI::App& app) {
  gc_ = app.add_subcommand(
      "gc",
      "Permanently delete runs and experiments in the deleted lifecycle stage, artifacts first "
      "(as `mlflow gc`).");
  gc_->add_option("--backend-store-uri", options_.backend_store_uri,
                  "Metadata store: sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB")
      ->capture_default_str();
  gc_->add_option("--artifacts-destination", options_.artifacts_destination,
                  "Where the server's artifact proxy stores mlflow-artifacts:/ paths: a folder, "
                  "file:///PATH or s3://BUCKET/PREFIX (as `plinth server`)")
      ->capture_default_str();
  gc_->add_option("--older-than", options_.older_than,
                  "Only what was deleted longer ago than this: #d#h#m#s, e.g. 30d, 1d2h, 1.5h "
                  "(default: any age)");
  gc_->add_option("--run-ids", options_.run_ids,
                  "Only these runs (comma-separated); each must be deleted");
  gc_->add_option("--experiment-ids", options_.experiment_ids,
                  "Only these experiments with all their runs (comma-separated); each must be "
                  "deleted");
  gc_->add_flag("--dry-run", options_.dry_run, "List what would be deleted; delete nothing");
}

bool GcCli::parsed() const { return gc_->parsed(); }

int GcCli::Run() {
  return RunGcCommand(options_, std::cout, std::cerr, Clock::System()->NowMillis());
}

}  // namespace plinth
