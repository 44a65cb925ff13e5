#include "cli/data_command.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "data/csv.h"
#include "data/drift_report.h"
#include "data/profile.h"
#include "data/suite.h"
#include "data/validate.h"
#include "drift/report.h"
#include "http/http_client.h"
#include "http/tracking_server.h"

namespace plinth {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// Writes `text` to -o or stdout. Failure is an I/O error (exit 2).
bool Emit(const DataCommandOptions& options, const std::string& text, std::ostream& out,
          std::ostream& err) {
  if (options.output.empty() || options.output == "-") {
    out << text;
    return true;
  }
  std::ofstream file(options.output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    err << "error: cannot write " << options.output << "\n";
    return false;
  }
  return true;
}

bool ReadOptions(const DataCommandOptions& options, data::CsvOptions* csv, std::ostream& err) {
  if (options.delimiter.size() != 1) {
    err << "error: --delimiter must be one character (use $'\\t' for tabs)\n";
    return false;
  }
  csv->delimiter = options.delimiter[0];
  csv->threads = options.threads;
  if (Status s = csv->Validate(); !s.ok()) {
    err << "error: " << s.message() << "\n";
    return false;
  }
  return true;
}

// A stored drift reference at `path` (or, when no such file exists, of the dataset version
// NAME[@VERSION] on the tracking server), null when the file is something else (a CSV file),
// or nullopt after an error written to `err` (unreadable file, damaged reference, unknown
// dataset).
std::optional<std::unique_ptr<data::DriftReference>> DecodeReference(const std::string& what,
                                                                     const std::string& bytes,
                                                                     std::ostream& err) {
  auto decoded = data::DecodeDriftReference(bytes);
  if (!decoded.ok()) {
    err << "error: " << what << ": " << decoded.status().message() << "\n";
    return std::nullopt;
  }
  return std::make_unique<data::DriftReference>(std::move(*decoded));
}

// NAME[@VERSION] of a dataset on the tracking server: its drift reference, downloaded (the
// server builds it once from the stored CSV), so the reference rows never travel.
std::optional<std::unique_ptr<data::DriftReference>> FetchDriftReference(
    const std::string& ref, const std::string& tracking_uri, std::ostream& err) {
  auto base = http::TrackingServerUrl(tracking_uri);
  if (!base.ok()) {
    err << "error: no file named " << ref << " (" << base.status().message() << ")\n";
    return std::nullopt;
  }
  const size_t at = ref.rfind('@');
  std::string query = "?name=" + http::UrlEncode(ref.substr(0, at));
  if (at != std::string::npos) {
    query += "&version=" + http::UrlEncode(ref.substr(at + 1));
  }
  http::ClientRequest request;
  request.method = "GET";
  request.url = *base + "/api/plinth/v1/datasets/drift-reference" + query;
  request.headers = http::TrackingAuthHeaders();
  auto response = http::SendHttpRequest(request);
  if (!response.ok()) {
    err << "error: no file named " << ref << ", and the tracking server " << *base
        << " could not be asked for a dataset of that name: " << response.status().message()
        << "\n";
    return std::nullopt;
  }
  if (response->status != 200) {
    err << "error: no file named " << ref << ", and the tracking server " << *base << " answered "
        << response->status << ": " << response->body.substr(0, 300) << "\n";
    return std::nullopt;
  }
  return DecodeReference("dataset " + ref, response->body, err);
}

std::optional<std::unique_ptr<data::DriftReference>> ReadDriftReference(
    const std::string& path, const std::string& tracking_uri, std::ostream& err) {
  std::error_code exists_ec;
  if (!std::filesystem::exists(path, exists_ec)) {
    return FetchDriftReference(path, tracking_uri, err);
  }
  auto read = data::ReadDriftReferenceFile(path);
  if (!read.ok()) {
    err << "error: " << read.status().message() << "\n";
    return std::nullopt;
  }
  if (!read->has_value()) {
    return std::unique_ptr<data::DriftReference>();
  }
  return std::make_unique<data::DriftReference>(std::move(**read));
}

bool CheckFormat(const std::string& format, bool html_allowed, std::ostream& err) {
  if (format.empty() || format == "json" || (html_allowed && format == "html")) {
    return true;
  }
  err << "error: --format must be json" << (html_allowed ? " or html" : "") << ", not '" << format
      << "'\n";
  return false;
}

// Reads `path` with `csv` plus the command's delimiter and thread options. On failure writes
// the reason to `err` and returns nullopt (exit 2); records skipped in collect mode are
// reported as a warning when `warn_bad_rows`.
std::optional<data::CsvReadResult> ReadTable(const DataCommandOptions& options,
                                             const std::string& path, data::CsvOptions csv,
                                             std::ostream& err, bool warn_bad_rows = true) {
  if (!ReadOptions(options, &csv, err)) {
    return std::nullopt;
  }
  auto read = data::ReadCsvFile(path, csv);
  if (!read.ok()) {
    err << "error: " << read.status().message() << "\n";
    return std::nullopt;
  }
  if (warn_bad_rows && !read->bad_rows.empty()) {
    err << "warning: " << read->bad_rows.size() << " malformed records skipped (first at line "
        << read->bad_rows.front().line << ")\n";
  }
  return std::move(*read);
}

// "name=value" split at the last '=' (column names may hold '=').
bool SplitAssignment(const std::string& text, std::string* name, std::string* value) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return false;
  }
  *name = text.substr(0, eq);
  *value = text.substr(eq + 1);
  return true;
}

}  // namespace

int RunDataValidate(const DataCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (!CheckFormat(options.format, true, err)) {
    return kUsage;
  }
  auto suite = data::LoadSuiteFile(options.suite);
  if (!suite.ok()) {
    err << "error: " << suite.status().message() << "\n";
    return kUsage;
  }
  auto shared = std::make_shared<const data::Suite>(std::move(*suite));
  // Malformed records are part of the validation result, not a warning.
  auto read = ReadTable(options, options.file, data::SuiteCsvOptions(*shared), err, false);
  if (!read) {
    return kUsage;
  }
  data::ValidateOptions validate;
  validate.threads = options.threads;
  validate.partial_unexpected_count = options.max_unexpected;
  data::ValidationReport report = data::Validate(shared, *read, validate);
  report.source = options.file;
  const std::string text =
      options.format == "html" ? data::ValidationToHtml(report) : data::ValidationToJson(report);
  if (!Emit(options, text, out, err)) {
    return kUsage;
  }
  if (!report.success) {
    size_t failed = 0;
    for (const auto& r : report.results) {
      failed += !r.success;
    }
    err << "validation failed: " << failed << " of " << report.results.size()
        << " expectations unmet, " << report.schema.size() << " schema violations\n";
    return kFailed;
  }
  return kOk;
}

int RunDataInferSuite(const DataCommandOptions& options, std::ostream& out, std::ostream& err) {
  data::CsvOptions csv;
  csv.bad_rows = data::BadRowMode::kCollect;
  auto read = ReadTable(options, options.file, csv, err);
  if (!read) {
    return kUsage;
  }
  data::ProfileOptions profile_options;
  profile_options.threads = options.threads;
  const data::DatasetProfile profile = data::ProfileTable(read->table, profile_options);
  data::InferSuiteOptions infer;
  infer.name =
      options.name.empty() ? std::filesystem::path(options.file).stem().string() : options.name;
  infer.unique_columns = data::UniqueColumns(read->table, options.threads);
  const data::Suite suite = data::InferSuite(profile, infer);
  return Emit(options, data::SuiteToYaml(suite), out, err) ? kOk : kUsage;
}

int RunDataProfile(const DataCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (!CheckFormat(options.format, false, err)) {
    return kUsage;
  }
  data::CsvOptions csv;
  csv.bad_rows = data::BadRowMode::kCollect;
  auto read = ReadTable(options, options.file, csv, err);
  if (!read) {
    return kUsage;
  }
  data::ProfileOptions profile_options;
  profile_options.threads = options.threads;
  const data::DatasetProfile profile = data::ProfileTable(read->table, profile_options);
  return Emit(options, data::ProfileToJson(profile) + "\n", out, err) ? kOk : kUsage;
}

int RunDataReference(const DataCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (options.output.empty() || options.output == "-") {
    err << "error: -o FILE is required (a drift reference is binary)\n";
    return kUsage;
  }
  auto read = ReadTable(options, options.file, data::CsvOptions{}, err);
  if (!read) {
    return kUsage;
  }
  const data::DriftReference reference = data::BuildDriftReference(read->table, options.threads);
  const std::string bytes = data::EncodeDriftReference(reference);
  if (!Emit(options, bytes, out, err)) {
    return kUsage;
  }
  out << "{\"reference\": \"" << options.output << "\", \"rows\": " << reference.rows
      << ", \"columns\": " << reference.columns.size() << ", \"bytes\": " << bytes.size() << "}\n";
  return kOk;
}

int RunDataDrift(const DataCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (!CheckFormat(options.format, true, err)) {
    return kUsage;
  }
  drift::DriftOptions drift_options;
  drift_options.threads = options.threads;
  drift_options.drift_share = options.drift_share;
  auto method = [&](const std::string& id, std::optional<drift::Method>* into) {
    if (id.empty()) {
      return true;
    }
    auto parsed = drift::MethodFromId(id);
    if (!parsed.ok()) {
      err << "error: " << parsed.status().message() << "\n";
      return false;
    }
    *into = *parsed;
    return true;
  };
  if (!method(options.method, &drift_options.method) ||
      !method(options.numerical_method, &drift_options.numerical_method) ||
      !method(options.categorical_method, &drift_options.categorical_method)) {
    return kUsage;
  }
  if (options.threshold >= 0) {
    drift_options.threshold = options.threshold;
  }
  for (const std::string& assignment : options.column_methods) {
    std::string name, id;
    if (!SplitAssignment(assignment, &name, &id)) {
      err << "error: --column-method takes NAME=METHOD, not '" << assignment << "'\n";
      return kUsage;
    }
    if (!method(id, &drift_options.per_column[name].method)) {
      return kUsage;
    }
  }
  for (const std::string& assignment : options.column_thresholds) {
    std::string name, value;
    double threshold;
    if (!SplitAssignment(assignment, &name, &value) || !data::ParseFloatText(value, &threshold)) {
      err << "error: --column-threshold takes NAME=NUMBER, not '" << assignment << "'\n";
      return kUsage;
    }
    drift_options.per_column[name].threshold = threshold;
  }
  if (Status s = drift_options.Validate(); !s.ok()) {
    err << "error: " << s.message() << "\n";
    return kUsage;
  }
  data::CsvOptions csv;
  if (!ReadOptions(options, &csv, err)) {  // checked before any file is read
    return kUsage;
  }
  // The reference is a CSV file or a stored drift reference (`plinth data reference`).
  auto stored = ReadDriftReference(options.reference, options.tracking_uri, err);
  if (!stored.has_value()) {
    return kUsage;
  }
  std::optional<data::CsvReadResult> reference;
  if (!*stored) {
    reference = ReadTable(options, options.reference, csv, err);
    if (!reference) {
      return kUsage;
    }
  }
  auto current = ReadTable(options, options.current, csv, err);
  if (!current) {
    return kUsage;
  }
  const bool html = options.format == "html";
  auto drift = *stored
                   ? data::ComputeTableDrift(**stored, current->table, drift_options, html)
                   : data::ComputeTableDrift(reference->table, current->table, drift_options, html);
  if (!drift.ok()) {
    err << "error: " << drift.status().message() << "\n";
    return kUsage;
  }
  const std::string text = options.format == "html"
                               ? data::DriftToHtml(*drift, options.reference, options.current)
                               : data::DriftToJson(*drift);
  if (!Emit(options, text, out, err)) {
    return kUsage;
  }
  return options.fail_on_drift && drift->result.dataset_drift ? kFailed : kOk;
}

DataCli::DataCli(CLI::App& app) {
  data_ = app.add_subcommand("data", "Validate, profile and compare datasets (CSV).");
  data_->require_subcommand(1);
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--delimiter", options_.delimiter, "Field delimiter")->capture_default_str();
    cmd->add_option("--threads", options_.threads, "Worker threads (0 = all cores)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1024));
    cmd->add_option("-o,--output", options_.output, "Write to this file instead of stdout");
  };

  validate_ = data_->add_subcommand("validate",
                                    "Run a validation suite on a CSV file; exit 1 when it fails.");
  validate_->add_option("file", options_.file, "CSV file")->required();
  validate_->add_option("--suite", options_.suite, "Suite (YAML)")->required();
  validate_->add_option("--format", options_.format, "json or html")->default_str("json");
  validate_
      ->add_option("--max-unexpected", options_.max_unexpected,
                   "Unexpected values listed per expectation (with row and line)")
      ->capture_default_str();
  common(validate_);

  infer_ = data_->add_subcommand("infer-suite", "Draft a validation suite from a CSV file.");
  infer_->add_option("file", options_.file, "CSV file")->required();
  infer_->add_option("--name", options_.name, "Suite name (default: the file name)");
  common(infer_);

  profile_ = data_->add_subcommand("profile", "Print a mergeable profile of a CSV file.");
  profile_->add_option("file", options_.file, "CSV file")->required();
  profile_->add_option("--format", options_.format, "json")->default_str("json");
  common(profile_);

  reference_ =
      data_->add_subcommand("reference",
                            "Store what drift needs of a reference CSV (exact samples, no rows): "
                            "`plinth data drift --reference OUT` then never reads the CSV again.");
  reference_->add_option("file", options_.file, "Reference CSV")->required();
  common(reference_);

  drift_ = data_->add_subcommand(
      "drift", "Compare a current CSV file with a reference one, column by column.");
  drift_
      ->add_option("--reference", options_.reference,
                   "Reference CSV, a drift reference from `plinth data reference`, or "
                   "NAME[@VERSION] of a dataset on the tracking server")
      ->required();
  drift_->add_option("--tracking-uri", options_.tracking_uri,
                     "Server for a NAME[@VERSION] reference (default: MLFLOW_TRACKING_URI)");
  drift_->add_option("--current", options_.current, "Current CSV")->required();
  drift_->add_option("--format", options_.format, "json or html")->default_str("json");
  drift_->add_option("--method", options_.method,
                     "Test for every column (ks, chisquare, z, wasserstein, jensenshannon, psi, "
                     "kl_div, hellinger, anderson, cramer_von_mises, mannw, ed)");
  drift_->add_option("--numerical-method", options_.numerical_method, "Test for numeric columns");
  drift_->add_option("--categorical-method", options_.categorical_method,
                     "Test for categorical columns");
  drift_->add_option("--threshold", options_.threshold, "Threshold for every column");
  drift_->add_option("--column-method", options_.column_methods, "NAME=METHOD (repeatable)");
  drift_->add_option("--column-threshold", options_.column_thresholds,
                     "NAME=THRESHOLD (repeatable)");
  drift_
      ->add_option("--drift-share", options_.drift_share,
                   "The dataset drifts when at least this share of columns drift")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  drift_->add_flag("--fail-on-drift", options_.fail_on_drift, "Exit 1 when the dataset drifts");
  common(drift_);
}

bool DataCli::parsed() const { return data_->parsed(); }

int DataCli::Run() {
  if (validate_->parsed()) {
    return RunDataValidate(options_, std::cout, std::cerr);
  }
  if (infer_->parsed()) {
    return RunDataInferSuite(options_, std::cout, std::cerr);
  }
  if (profile_->parsed()) {
    return RunDataProfile(options_, std::cout, std::cerr);
  }
  if (drift_->parsed()) {
    return RunDataDrift(options_, std::cout, std::cerr);
  }
  if (reference_->parsed()) {
    return RunDataReference(options_, std::cout, std::cerr);
  }
  return kUsage;
}

}  // namespace plinth
