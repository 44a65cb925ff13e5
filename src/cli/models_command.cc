#include "cli/models_command.h"

#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "core/json.h"
#include "http/http_client.h"
#include "http/tracking_server.h"

namespace plinth {
namespace {

constexpr const char* kRegistryPath = "/api/plinth/v1/registry";

// Calls the registry route and parses its JSON answer; a non-200 answer becomes a Status with
// the server's message.
Result<JsonDocument> Call(const ModelsCommandOptions& options, const std::string& method,
                          const std::string& path_and_query, const std::string& body) {
  PLINTH_ASSIGN_OR_RETURN(std::string base, http::TrackingServerUrl(options.tracking_uri));
  http::ClientRequest request;
  request.method = method;
  request.url = base + kRegistryPath + path_and_query;
  request.body = body;
  request.headers = http::TrackingAuthHeaders();
  PLINTH_ASSIGN_OR_RETURN(http::ClientResponse response, http::SendHttpRequest(request));
  JsonDocument doc;
  Status parsed = ParseJson(response.body, &doc);
  if (response.status == 200 && parsed.ok() && doc.IsObject()) return doc;
  std::string message = response.body;
  if (parsed.ok() && doc.IsObject()) {
    auto text = JsonGetString(doc, "message");
    if (text.ok() && *text) message = **text;
  }
  if (response.status == 404 && message.find("not found") == std::string::npos) {
    message = "this server has no model registry routes (is it plinth?): " + message;
  }
  return Status(StatusCode::kFailedPrecondition,
                "the server answered " + std::to_string(response.status) + ": " + message);
}

std::string Text(const JsonValue& v, const char* field) {
  auto text = JsonGetString(v, field);
  return text.ok() && *text ? **text : "";
}

int Fail(const Status& s, const char* command, std::ostream& err) {
  err << "plinth models " << command << ": " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

std::string BodyOf(const ModelsCommandOptions& options, bool with_version) {
  JsonWriter w;
  w.StartObject();
  w.KeyString("name", options.name);
  w.KeyString("alias", options.alias);
  if (with_version) w.KeyString("version", options.version);
  const char* env_user = std::getenv("USER");
  w.KeyString("user", options.user.empty() ? (env_user != nullptr ? env_user : "") : options.user);
  w.EndObject();
  return w.Take();
}

void PrintMove(const JsonDocument& doc, const ModelsCommandOptions& options, const char* verb,
               std::ostream& out) {
  const std::string before = Text(doc, "previous_version");
  out << options.name << "@" << Text(doc, "alias") << " " << verb << " version "
      << Text(doc, "version") << " (was " << (before.empty() ? "unset" : "version " + before)
      << ")\n";
}

std::string IsoTime(int64_t millis) {
  time_t seconds = static_cast<time_t>(millis / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace

int RunModelsPromote(const ModelsCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto doc = Call(options, "POST", "/promote", BodyOf(options, /*with_version=*/true));
  if (!doc.ok()) return Fail(doc.status(), "promote", err);
  PrintMove(*doc, options, "now points at", out);
  return 0;
}

int RunModelsRollback(const ModelsCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto doc = Call(options, "POST", "/rollback", BodyOf(options, /*with_version=*/false));
  if (!doc.ok()) return Fail(doc.status(), "rollback", err);
  PrintMove(*doc, options, "rolled back to", out);
  return 0;
}

int RunModelsHistory(const ModelsCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::string query = "/alias-history?name=" + http::UrlEncode(options.name);
  if (!options.alias.empty()) query += "&alias=" + http::UrlEncode(options.alias);
  auto doc = Call(options, "GET", query, "");
  if (!doc.ok()) return Fail(doc.status(), "history", err);
  const JsonValue* events = JsonFind(*doc, "events");
  if (events == nullptr || !events->IsArray() || events->Empty()) {
    out << "no alias moves recorded for " << options.name << "\n";
    return 0;
  }
  for (const JsonValue& e : events->GetArray()) {
    auto at = JsonGetInt64(e, "timestamp");
    const std::string from = Text(e, "previous_version");
    const std::string to = Text(e, "version");
    out << IsoTime(at.ok() && *at ? **at : 0) << "  " << Text(e, "alias") << "  "
        << Text(e, "action") << "  " << (from.empty() ? "-" : from) << " -> "
        << (to.empty() ? "-" : to);
    if (std::string user = Text(e, "user_id"); !user.empty()) out << "  by " << user;
    out << "\n";
  }
  return 0;
}

ModelsCli::ModelsCli(CLI::App& app) {
  models_ = app.add_subcommand(
      "models", "Move a registered model's aliases on a running plinth server, with history.");
  models_->require_subcommand(1);
  auto common = [this](CLI::App* cmd) {
    cmd->add_option("--tracking-uri", options_.tracking_uri,
                    "The server: http(s)://HOST:PORT (default: MLFLOW_TRACKING_URI, else "
                    "http://127.0.0.1:5000)");
    cmd->add_option("name", options_.name, "Registered model name")->required();
  };
  promote_ = models_->add_subcommand(
      "promote", "Point ALIAS at VERSION (recorded, so `rollback` can return to what it replaces)");
  common(promote_);
  promote_->add_option("version", options_.version, "Model version")->required();
  promote_->add_option("--alias", options_.alias, "Alias to move, e.g. production")->required();
  promote_->add_option("--user", options_.user, "Who promotes (default: $USER)");
  rollback_ = models_->add_subcommand(
      "rollback", "Return ALIAS to its previous holder (each rollback steps further back)");
  common(rollback_);
  rollback_->add_option("--alias", options_.alias, "Alias to move back")->required();
  rollback_->add_option("--user", options_.user, "Who rolls back (default: $USER)");
  history_ = models_->add_subcommand("history", "List the recorded moves of the model's aliases");
  common(history_);
  history_->add_option("--alias", options_.alias, "Only this alias");
}

bool ModelsCli::parsed() const { return models_->parsed(); }

int ModelsCli::Run() {
  if (promote_->parsed()) return RunModelsPromote(options_, std::cout, std::cerr);
  if (rollback_->parsed()) return RunModelsRollback(options_, std::cout, std::cerr);
  return RunModelsHistory(options_, std::cout, std::cerr);
}

}  // namespace plinth
