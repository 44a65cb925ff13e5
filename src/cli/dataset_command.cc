#include "cli/dataset_command.h"

#include <rapidjson/prettywriter.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/json.h"
#include "data/dataset_service.h"
#include "data/suite.h"
#include "data/validate.h"
#include "http/http_client.h"
#include "http/tracking_server.h"

namespace plinth {
namespace {

constexpr const char* kDatasets = "/api/plinth/v1/datasets";
constexpr int kOk = 0, kFailed = 1, kUsage = 2;

struct Server {
  std::string base;
  std::vector<std::pair<std::string, std::string>> auth;
};

Result<Server> Connect(const DatasetCommandOptions& o) {
  PLINTH_ASSIGN_OR_RETURN(std::string base, http::TrackingServerUrl(o.tracking_uri));
  return Server{base, http::TrackingAuthHeaders()};
}

std::string Message(const http::ClientResponse& r) {
  JsonDocument doc;
  if (ParseJson(r.body, &doc).ok() && doc.IsObject()) {
    auto m = JsonGetString(doc, "message");
    if (m.ok() && *m) return **m;
  }
  return r.body.substr(0, 300);
}

// A JSON call; non-2xx answers become a Status carrying the server's message.
Result<JsonDocument> Call(const Server& s, const std::string& method, const std::string& path,
                          const std::string& body = "") {
  http::ClientRequest q;
  q.method = method;
  q.url = s.base + path;
  q.body = body;
  q.headers = s.auth;
  PLINTH_ASSIGN_OR_RETURN(http::ClientResponse r, http::SendHttpRequest(q));
  if (r.status == 404 && r.body.find("error_code") == std::string::npos) {
    return FailedPrecondition("the server has no dataset routes (is it plinth?)");
  }
  if (r.status < 200 || r.status >= 300) {
    return Status(r.status == 404 ? StatusCode::kNotFound : StatusCode::kFailedPrecondition,
                  "the server answered " + std::to_string(r.status) + ": " + Message(r));
  }
  JsonDocument doc;
  PLINTH_RETURN_IF_ERROR(ParseJson(r.body, &doc));
  return doc;
}

// NAME or NAME@VERSION → the get query.
std::string RefQuery(const std::string& ref) {
  size_t at = ref.rfind('@');
  if (at == std::string::npos) return "?name=" + http::UrlEncode(ref);
  return "?name=" + http::UrlEncode(ref.substr(0, at)) +
         "&version=" + http::UrlEncode(ref.substr(at + 1));
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

int Fail(const Status& s, const char* what, std::ostream& err) {
  err << "plinth data " << what << ": " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? kUsage : kFailed;
}

std::string Pretty(const JsonValue& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

int RunDataAdd(const DatasetCommandOptions& o, std::ostream& out, std::ostream& err) {
  if (o.name.empty()) return Fail(InvalidArgument("--name is required"), "add", err);
  auto server = Connect(o);
  if (!server.ok()) return Fail(server.status(), "add", err);
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(o.file, ec);
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Fail(InvalidArgument(o.file + " is not a file"), "add", err);
  }
  // 1. Content hash (streamed).
  auto digest = data::HashFile(path.string());
  if (!digest.ok()) return Fail(digest.status(), "add", err);
  // 2. Profile and schema of a CSV, chunk by chunk; a suite's validation when given.
  std::string format = o.format;
  if (format.empty()) format = path.extension() == ".csv" ? "csv" : "";
  JsonWriter body;
  body.StartObject();
  body.KeyString("name", o.name);
  body.KeyString("digest", digest->sha256);
  body.KeyInt64("size_bytes", static_cast<int64_t>(digest->size));
  body.KeyString("source", path.string());
  body.KeyString("format", format);
  body.KeyString("description", o.description);
  const char* user = std::getenv("USER");
  body.KeyString("user_id", user != nullptr ? user : "");
  std::string summary;
  bool validation_failed = false;
  if (format == "csv") {
    auto profile = data::ProfileCsvChunked(path.string());
    if (!profile.ok()) return Fail(profile.status(), "add", err);
    body.KeyInt64("num_rows", static_cast<int64_t>(profile->rows));
    body.KeyInt64("num_columns", static_cast<int64_t>(profile->columns));
    body.Key("schema");
    body.Raw(profile->schema_json);
    body.Key("profile");
    body.Raw(data::ProfileToJson(profile->profile, /*pretty=*/false));
    summary =
        std::to_string(profile->rows) + " rows × " + std::to_string(profile->columns) + " columns";
  }
  if (!o.suite.empty()) {
    auto suite = data::LoadSuiteFile(o.suite);
    if (!suite.ok()) return Fail(suite.status(), "add", err);
    auto shared = std::make_shared<const data::Suite>(std::move(*suite));
    auto read = data::ReadCsvFile(path.string(), data::SuiteCsvOptions(*shared));
    if (!read.ok()) return Fail(read.status(), "add", err);
    data::ValidationReport report = data::Validate(shared, *read);
    report.source = path.string();
    body.KeyBool("validation_success", report.success);
    body.Key("validation");
    body.Raw(data::ValidationToJson(report));
    validation_failed = !report.success;
  }
  body.EndObject();
  // 3. The bytes, unless the server has them already (content-addressed: stored once).
  http::ClientRequest head;
  head.method = "HEAD";
  head.url = server->base + kDatasets + "/blobs/" + digest->sha256;
  head.headers = server->auth;
  auto exists = http::SendHttpRequest(head);
  if (!exists.ok()) return Fail(exists.status(), "add", err);
  bool uploaded = false;
  if (exists->status != 200) {
    http::ClientRequest put;
    put.method = "PUT";
    put.url = head.url;
    put.headers = server->auth;
    put.timeout_seconds = 0;  // large files: no overall deadline
    auto r = http::SendHttpRequestWithFiles(put, path.string(), "");
    if (!r.ok()) return Fail(r.status(), "add", err);
    if (r->status != 200) {
      return Fail(FailedPrecondition("uploading the bytes: the server answered " +
                                     std::to_string(r->status) + ": " + Message(*r)),
                  "add", err);
    }
    uploaded = true;
  }
  // 4. The version.
  auto created = Call(*server, "POST", std::string(kDatasets) + "/versions/create", body.Take());
  if (!created.ok()) return Fail(created.status(), "add", err);
  const JsonValue* v = JsonFind(*created, "dataset_version");
  auto version = v != nullptr ? JsonGetInt64(*v, "version") : Result<std::optional<int64_t>>(0);
  auto is_new = JsonGetBool(*created, "created");
  int64_t number = version.ok() && *version ? **version : 0;
  bool fresh = is_new.ok() && *is_new && **is_new;
  out << o.name << "@" << number << ": sha256 " << digest->sha256.substr(0, 12) << "…, "
      << HumanBytes(digest->size) << (summary.empty() ? "" : ", " + summary) << " — "
      << (fresh ? "new version" : "unchanged (the latest version holds these bytes)") << "; "
      << (uploaded ? "bytes stored" : "bytes already stored") << "\n";
  // 5. Lineage: the run that uses this version, through MLflow's log-inputs.
  if (!o.run_id.empty()) {
    JsonWriter w;
    w.StartObject();
    w.KeyString("run_id", o.run_id);
    w.Key("datasets");
    w.StartArray();
    w.StartObject();
    w.Key("tags");
    w.StartArray();
    w.StartObject();
    w.KeyString("key", "mlflow.data.context");
    w.KeyString("value", o.context);
    w.EndObject();
    w.EndArray();
    w.Key("dataset");
    w.StartObject();
    w.KeyString("name", o.name);
    // MLflow caps digests at 36 characters; the first 32 hex digits of the SHA-256 name the
    // version unambiguously, and `source` carries the full reference.
    w.KeyString("digest", digest->sha256.substr(0, 32));
    w.KeyString("source_type", "plinth");
    w.KeyString("source", "{\"uri\": \"plinth-datasets:/" + o.name + "/" + std::to_string(number) +
                              "\", \"sha256\": \"" + digest->sha256 + "\"}");
    w.EndObject();
    w.EndObject();
    w.EndArray();
    w.EndObject();
    auto logged = Call(*server, "POST", "/api/2.0/mlflow/runs/log-inputs", w.Take());
    if (!logged.ok()) return Fail(logged.status(), "add (linking the run)", err);
    out << "linked to run " << o.run_id << " as a " << o.context << " input\n";
  }
  if (validation_failed) {
    err << "plinth data add: the suite failed on this version (stored with its result)\n";
    return kFailed;
  }
  return kOk;
}

int RunDataList(const DatasetCommandOptions& o, std::ostream& out, std::ostream& err) {
  auto server = Connect(o);
  if (!server.ok()) return Fail(server.status(), "list", err);
  if (!o.file.empty()) {
    auto versions =
        Call(*server, "GET", std::string(kDatasets) + "/versions?name=" + http::UrlEncode(o.file));
    if (!versions.ok()) return Fail(versions.status(), "list", err);
    out << Pretty(*versions) << "\n";
    return kOk;
  }
  auto all = Call(*server, "GET", std::string(kDatasets) + "/list");
  if (!all.ok()) return Fail(all.status(), "list", err);
  const JsonValue* list = JsonFind(*all, "datasets");
  if (list == nullptr || !list->IsArray() || list->Empty()) {
    out << "no datasets\n";
    return kOk;
  }
  for (const JsonValue& d : list->GetArray()) {
    out << d["name"].GetString() << "  latest: " << d["latest_version"].GetInt64()
        << "  versions: " << d["versions"].GetInt64() << "\n";
  }
  return kOk;
}

int RunDataShow(const DatasetCommandOptions& o, std::ostream& out, std::ostream& err) {
  auto server = Connect(o);
  if (!server.ok()) return Fail(server.status(), "show", err);
  auto got = Call(*server, "GET", std::string(kDatasets) + "/get" + RefQuery(o.file));
  if (!got.ok()) return Fail(got.status(), "show", err);
  out << Pretty(*got) << "\n";
  return kOk;
}

int RunDataGet(const DatasetCommandOptions& o, std::ostream& out, std::ostream& err) {
  auto server = Connect(o);
  if (!server.ok()) return Fail(server.status(), "get", err);
  auto got = Call(*server, "GET", std::string(kDatasets) + "/get" + RefQuery(o.file));
  if (!got.ok()) return Fail(got.status(), "get", err);
  const JsonValue* v = JsonFind(*got, "dataset_version");
  auto digest = v != nullptr ? JsonGetString(*v, "digest")
                             : Result<std::optional<std::string>>(std::optional<std::string>());
  if (!digest.ok() || !*digest) {
    return Fail(Internal("the server's answer has no digest"), "get", err);
  }
  std::string target = o.output.empty() ? o.file.substr(0, o.file.rfind('@')) + ".csv" : o.output;
  std::string partial = target + ".part";
  http::ClientRequest q;
  q.url = server->base + kDatasets + "/blobs/" + **digest;
  q.headers = server->auth;
  q.timeout_seconds = 0;
  auto r = http::SendHttpRequestWithFiles(q, "", partial);
  if (!r.ok() || r->status != 200) {
    std::filesystem::remove(partial);
    return Fail(r.ok() ? FailedPrecondition("the server answered " + std::to_string(r->status) +
                                            ": " + Message(*r))
                       : r.status(),
                "get", err);
  }
  auto check = data::HashFile(partial);
  if (!check.ok() || check->sha256 != **digest) {
    std::filesystem::remove(partial);
    return Fail(Internal("the downloaded bytes do not hash to " + **digest), "get", err);
  }
  std::filesystem::rename(partial, target);
  out << "wrote " << target << " (" << HumanBytes(check->size) << ", sha256 verified)\n";
  return kOk;
}

DatasetCli::DatasetCli(CLI::App& app) {
  CLI::App* data = app.get_subcommand("data");
  DatasetCommandOptions& o = options_;
  auto tracking = [&o](CLI::App* sub) {
    sub->add_option("--tracking-uri", o.tracking_uri,
                    "The plinth server (default: MLFLOW_TRACKING_URI, else "
                    "http://127.0.0.1:5000)");
  };
  add_ = data->add_subcommand(
      "add",
      "Store a new version of a dataset: hashed (SHA-256), stored once by content on the "
      "server, with its schema and profile (CSV) and optionally a suite's result");
  add_->add_option("file", o.file, "The file")->required();
  add_->add_option("--name", o.name, "Dataset name")->required();
  add_->add_option("--suite", o.suite, "Validate with this suite and record the result");
  add_->add_option("--description", o.description, "What this version is");
  add_->add_option("--format", o.format, "csv (default for .csv files) or other");
  add_->add_option("--run-id", o.run_id,
                   "Log the version as an input of this MLflow run (lineage)");
  add_->add_option("--context", o.context, "The input's context tag (training, evaluation, …)")
      ->capture_default_str();
  tracking(add_);
  list_ = data->add_subcommand("list", "List datasets, or the versions of one");
  list_->add_option("name", o.file, "A dataset name: list its versions");
  tracking(list_);
  show_ = data->add_subcommand("show", "Show a version: schema, profile, validation");
  show_->add_option("ref", o.file, "NAME or NAME@VERSION (latest when omitted)")->required();
  tracking(show_);
  get_ = data->add_subcommand("get", "Download a version's bytes (verified by their SHA-256)");
  get_->add_option("ref", o.file, "NAME or NAME@VERSION")->required();
  get_->add_option("-o,--output", o.output, "Where to write (default: NAME.csv)");
  tracking(get_);
}

bool DatasetCli::parsed() const {
  return add_->parsed() || list_->parsed() || show_->parsed() || get_->parsed();
}

int DatasetCli::Run() {
  if (add_->parsed()) return RunDataAdd(options_, std::cout, std::cerr);
  if (list_->parsed()) return RunDataList(options_, std::cout, std::cerr);
  if (show_->parsed()) return RunDataShow(options_, std::cout, std::cerr);
  if (get_->parsed()) return RunDataGet(options_, std::cout, std::cerr);
  return kUsage;
}

}  // namespace plinth
