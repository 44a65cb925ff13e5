#include "api/registry_api.h"

#include <string>
#include <vector>

#include "api/json_route.h"
#include "api/mlflow_json.h"
#include "api/request_message.h"

namespace plinth::api {
namespace {

using http::Method;
using http::Request;
using registry::RegistryService;
using store::ModelVersion;
using store::RegisteredModel;

constexpr const char* kPlinthRegistry = "/api/plinth/v1/registry";

// A version number as the request carries it: a string as MLflow's clients send it, or a JSON
// integer.
Result<std::string> ReadVersion(const RequestMessage& m, const char* field = "version") {
  auto text = m.String(field);
  if (!text.ok()) {
    PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> number, m.Int64(field));
    if (number) return std::to_string(*number);
    return text.status();
  }
  if (!*text || (*text)->empty()) return MissingParameter(field);
  return std::move(**text);
}

Result<registry::RegistrySearchRequest> ReadSearch(const RequestMessage& m) {
  registry::RegistrySearchRequest r;
  PLINTH_ASSIGN_OR_RETURN(auto filter, m.String("filter"));
  r.filter = filter.value_or("");
  PLINTH_ASSIGN_OR_RETURN(r.max_results, m.Int64("max_results"));
  PLINTH_ASSIGN_OR_RETURN(r.order_by, m.StringList("order_by"));
  PLINTH_ASSIGN_OR_RETURN(auto token, m.String("page_token"));
  r.page_token = token.value_or("");
  return r;
}

void WriteVersions(JsonWriter& w, const char* field, const std::vector<ModelVersion>& versions) {
  if (versions.empty()) return;  // empty repeated fields are omitted, as protobuf does
  w.Key(field);
  w.StartArray();
  for (const ModelVersion& v : versions) WriteModelVersion(w, v);
  w.EndArray();
}

void WriteNextPageToken(JsonWriter& w, const std::string& token) {
  if (!token.empty()) w.KeyString("next_page_token", token);
}

void WriteRegisteredModelResponse(JsonWriter& w, const RegisteredModel& m) {
  w.StartObject();
  w.Key("registered_model");
  WriteRegisteredModel(w, m);
  w.EndObject();
}

void WriteModelVersionResponse(JsonWriter& w, const ModelVersion& v) {
  w.StartObject();
  w.Key("model_version");
  WriteModelVersion(w, v);
  w.EndObject();
}

void WriteAliasMove(JsonWriter& w, const registry::AliasMove& move) {
  w.StartObject();
  w.KeyString("alias", move.alias);
  if (move.from) w.KeyString("previous_version", std::to_string(*move.from));
  w.KeyString("version", std::to_string(move.to));
  w.Key("model_version");
  WriteModelVersion(w, move.version);
  w.EndObject();
}

// Who moves an alias through Plinth's routes: the request's "user", else nobody in particular.
Result<std::string> ReadUser(const RequestMessage& m) {
  PLINTH_ASSIGN_OR_RETURN(auto user, m.String("user"));
  return user.value_or("");
}

// ------------------------------------------------------------------ registered models

void RegisterRegisteredModels(http::Router& r, RegistryService* reg) {
  AddJson(r, Method::kPost, "/registered-models/create",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(auto array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(auto tags, ReadKeyValues(array, "tags"));
            PLINTH_ASSIGN_OR_RETURN(auto description, m.String("description"));
            PLINTH_ASSIGN_OR_RETURN(
                RegisteredModel model,
                reg->CreateRegisteredModel(name, tags, description.value_or("")));
            WriteRegisteredModelResponse(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/registered-models/get",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(RegisteredModel model, reg->GetRegisteredModel(name));
            WriteRegisteredModelResponse(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/registered-models/rename",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string new_name, m.RequiredString("new_name"));
            PLINTH_ASSIGN_OR_RETURN(RegisteredModel model,
                                    reg->RenameRegisteredModel(name, new_name));
            WriteRegisteredModelResponse(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kPatch, "/registered-models/update",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(auto description, m.String("description"));
            PLINTH_ASSIGN_OR_RETURN(RegisteredModel model,
                                    reg->UpdateRegisteredModel(name, description));
            WriteRegisteredModelResponse(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kDelete, "/registered-models/delete",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            return reg->DeleteRegisteredModel(name);
          });
  AddJson(r, Method::kGet, "/registered-models/search",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto request, ReadSearch(m));
            PLINTH_ASSIGN_OR_RETURN(auto page, reg->SearchRegisteredModels(request));
            w.StartObject();
            if (!page.items.empty()) {
              w.Key("registered_models");
              w.StartArray();
              for (const RegisteredModel& model : page.items) WriteRegisteredModel(w, model);
              w.EndArray();
            }
            WriteNextPageToken(w, page.next_page_token);
            w.EndObject();
            return Status::Ok();
          });
  auto latest = [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
    PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
    PLINTH_ASSIGN_OR_RETURN(auto stages, m.StringList("stages"));
    PLINTH_ASSIGN_OR_RETURN(auto versions, reg->GetLatestVersions(name, stages));
    w.StartObject();
    WriteVersions(w, "model_versions", versions);
    w.EndObject();
    return Status::Ok();
  };
  AddJson(r, Method::kPost, "/registered-models/get-latest-versions", latest);
  AddJson(r, Method::kGet, "/registered-models/get-latest-versions", latest);
  AddJson(r, Method::kPost, "/registered-models/set-tag",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_ASSIGN_OR_RETURN(auto value, m.String("value"));
            return reg->SetRegisteredModelTag(name, {key, value.value_or("")});
          });
  AddJson(r, Method::kDelete, "/registered-models/delete-tag",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            return reg->DeleteRegisteredModelTag(name, key);
          });

  // Aliases: one path, three methods.
  AddJson(r, Method::kPost, "/registered-models/alias",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string alias, m.RequiredString("alias"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            return reg->SetRegisteredModelAlias(name, alias, version);
          });
  AddJson(r, Method::kDelete, "/registered-models/alias",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string alias, m.RequiredString("alias"));
            return reg->DeleteRegisteredModelAlias(name, alias);
          });
  AddJson(r, Method::kGet, "/registered-models/alias",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string alias, m.RequiredString("alias"));
            PLINTH_ASSIGN_OR_RETURN(ModelVersion v, reg->GetModelVersionByAlias(name, alias));
            WriteModelVersionResponse(w, v);
            return Status::Ok();
          });
}

// ------------------------------------------------------------------ model versions

void RegisterModelVersions(http::Router& r, RegistryService* reg) {
  AddJson(r, Method::kPost, "/model-versions/create",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            registry::CreateModelVersionRequest request;
            PLINTH_ASSIGN_OR_RETURN(request.name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(request.source, m.RequiredString("source"));
            PLINTH_ASSIGN_OR_RETURN(request.run_id, m.String("run_id"));
            PLINTH_ASSIGN_OR_RETURN(request.model_id, m.String("model_id"));
            PLINTH_ASSIGN_OR_RETURN(auto array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(request.tags, ReadKeyValues(array, "tags"));
            PLINTH_ASSIGN_OR_RETURN(auto run_link, m.String("run_link"));
            request.run_link = run_link.value_or("");
            PLINTH_ASSIGN_OR_RETURN(request.description, m.String("description"));
            PLINTH_ASSIGN_OR_RETURN(ModelVersion v, reg->CreateModelVersion(request));
            WriteModelVersionResponse(w, v);
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/model-versions/get",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            PLINTH_ASSIGN_OR_RETURN(ModelVersion v, reg->GetModelVersion(name, version));
            WriteModelVersionResponse(w, v);
            return Status::Ok();
          });
  AddJson(r, Method::kPatch, "/model-versions/update",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            PLINTH_ASSIGN_OR_RETURN(auto description, m.String("description"));
            PLINTH_ASSIGN_OR_RETURN(ModelVersion v,
                                    reg->UpdateModelVersion(name, version, description));
            WriteModelVersionResponse(w, v);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/model-versions/transition-stage",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            PLINTH_ASSIGN_OR_RETURN(std::string stage, m.RequiredString("stage"));
            PLINTH_ASSIGN_OR_RETURN(auto archive, m.Bool("archive_existing_versions"));
            PLINTH_ASSIGN_OR_RETURN(
                ModelVersion v,
                reg->TransitionModelVersionStage(name, version, stage, archive.value_or(false)));
            WriteModelVersionResponse(w, v);
            return Status::Ok();
          });
  AddJson(r, Method::kDelete, "/model-versions/delete",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            return reg->DeleteModelVersion(name, version);
          });
  AddJson(r, Method::kGet, "/model-versions/search",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto request, ReadSearch(m));
            PLINTH_ASSIGN_OR_RETURN(auto page, reg->SearchModelVersions(request));
            w.StartObject();
            WriteVersions(w, "model_versions", page.items);
            WriteNextPageToken(w, page.next_page_token);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/model-versions/get-download-uri",
          [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            PLINTH_ASSIGN_OR_RETURN(std::string uri,
                                    reg->GetModelVersionDownloadUri(name, version));
            w.StartObject();
            w.KeyString("artifact_uri", uri);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/model-versions/set-tag",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_ASSIGN_OR_RETURN(auto value, m.String("value"));
            return reg->SetModelVersionTag(name, version, {key, value.value_or("")});
          });
  AddJson(r, Method::kDelete, "/model-versions/delete-tag",
          [reg](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            return reg->DeleteModelVersionTag(name, version, key);
          });
}

// ------------------------------------------------------------------ Plinth's own

void RegisterPlinthRegistry(http::Router& r, RegistryService* reg) {
  const std::string base = kPlinthRegistry;
  AddJsonRoute(r, Method::kPost, base + "/promote",
               [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(std::string alias, m.RequiredString("alias"));
                 PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
                 PLINTH_ASSIGN_OR_RETURN(std::string user, ReadUser(m));
                 PLINTH_ASSIGN_OR_RETURN(auto move, reg->Promote(name, alias, version, user));
                 WriteAliasMove(w, move);
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kPost, base + "/rollback",
               [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(std::string alias, m.RequiredString("alias"));
                 PLINTH_ASSIGN_OR_RETURN(std::string user, ReadUser(m));
                 PLINTH_ASSIGN_OR_RETURN(auto move, reg->Rollback(name, alias, user));
                 WriteAliasMove(w, move);
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, base + "/alias-history",
               [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(auto alias, m.String("alias"));
                 PLINTH_ASSIGN_OR_RETURN(auto events, reg->AliasHistory(name, alias.value_or("")));
                 w.StartObject();
                 w.Key("events");
                 w.StartArray();
                 for (const store::AliasEvent& e : events) {
                   w.StartObject();
                   w.KeyInt64("event_id", e.event_id);
                   w.KeyString("alias", e.alias);
                   if (e.version) w.KeyString("version", std::to_string(*e.version));
                   if (e.previous_version) {
                     w.KeyString("previous_version", std::to_string(*e.previous_version));
                   }
                   w.KeyString("action", e.action);
                   if (!e.user_id.empty()) w.KeyString("user_id", e.user_id);
                   w.KeyInt64("timestamp", e.timestamp);
                   w.EndObject();
                 }
                 w.EndArray();
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, base + "/lineage",
               [reg](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(std::string version, ReadVersion(m));
                 PLINTH_ASSIGN_OR_RETURN(registry::Lineage lineage, reg->GetLineage(name, version));
                 w.StartObject();
                 w.Key("model_version");
                 WriteModelVersion(w, lineage.version);
                 if (!lineage.version.model_id.empty()) {
                   w.KeyString("model_id", lineage.version.model_id);
                 }
                 if (lineage.run) {
                   w.Key("run");
                   WriteRun(w, *lineage.run);
                 } else if (!lineage.run_missing.empty()) {
                   w.KeyString("run_missing", lineage.run_missing);
                 }
                 w.EndObject();
                 return Status::Ok();
               });
}

}  // namespace

void WriteModelVersion(JsonWriter& w, const ModelVersion& v) {
  w.StartObject();
  w.KeyString("name", v.name);
  w.KeyString("version", std::to_string(v.version));
  w.KeyInt64("creation_timestamp", v.creation_timestamp);
  w.KeyInt64("last_updated_timestamp", v.last_updated_timestamp);
  if (!v.user_id.empty()) w.KeyString("user_id", v.user_id);
  w.KeyString("current_stage", v.current_stage);
  if (v.description) w.KeyString("description", *v.description);
  w.KeyString("source", v.source);
  w.KeyString("run_id", v.run_id);
  w.KeyString("status", v.status);
  if (!v.status_message.empty()) w.KeyString("status_message", v.status_message);
  WriteKeyValues(w, "tags", v.tags);
  w.KeyString("run_link", v.run_link);
  if (!v.aliases.empty()) {
    w.Key("aliases");
    w.StartArray();
    for (const std::string& a : v.aliases) w.String(a);
    w.EndArray();
  }
  w.EndObject();
}

void WriteRegisteredModel(JsonWriter& w, const RegisteredModel& m) {
  w.StartObject();
  w.KeyString("name", m.name);
  w.KeyInt64("creation_timestamp", m.creation_timestamp);
  w.KeyInt64("last_updated_timestamp", m.last_updated_timestamp);
  if (!m.description.empty()) w.KeyString("description", m.description);
  WriteVersions(w, "latest_versions", m.latest_versions);
  WriteKeyValues(w, "tags", m.tags);
  if (!m.aliases.empty()) {
    w.Key("aliases");
    w.StartArray();
    for (const store::ModelAlias& a : m.aliases) {
      w.StartObject();
      w.KeyString("alias", a.alias);
      w.KeyString("version", std::to_string(a.version));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

void RegisterRegistryApi(http::Router& router, RegistryService* registry) {
  RegisterRegisteredModels(router, registry);
  RegisterModelVersions(router, registry);
  RegisterPlinthRegistry(router, registry);
}

}  // namespace plinth::api
