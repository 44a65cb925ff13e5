#include "api/dataset_api.h"

#include <optional>
#include <string>

#include "api/json_route.h"
#include "core/clock.h"
#include "data/dataset_service.h"
#include "data/drift_report.h"
#include "drift/stattests.h"

namespace plinth::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr const char* kPrefix = "/api/plinth/v1/datasets";

void WriteVersion(JsonWriter& w, const store::DatasetVersionRecord& v, bool full) {
  w.StartObject();
  w.KeyString("name", v.name);
  w.KeyInt64("version", v.version);
  w.KeyString("digest", v.digest);
  w.KeyInt64("size_bytes", v.size_bytes);
  w.KeyString("source", v.source);
  w.KeyString("storage_uri", v.storage_uri);
  w.KeyString("format", v.format);
  if (v.num_rows) w.KeyInt64("num_rows", *v.num_rows);
  if (v.num_columns) w.KeyInt64("num_columns", *v.num_columns);
  if (!v.schema_json.empty()) {
    w.Key("schema");
    w.Raw(v.schema_json);
  }
  if (full && !v.profile_json.empty()) {
    w.Key("profile");
    w.Raw(v.profile_json);
  }
  if (full && !v.validation_json.empty()) {
    w.Key("validation");
    w.Raw(v.validation_json);
  }
  if (v.validation_success) w.KeyBool("validation_success", *v.validation_success);
  w.KeyString("description", v.description);
  w.KeyString("user_id", v.user_id);
  w.KeyInt64("creation_timestamp", v.creation_time);
  w.EndObject();
}

// Raw JSON of an object/array field, re-serialized (so stored texts are canonical JSON).
std::string RawField(const RequestMessage& m, std::string_view field) {
  const JsonValue* v = m.Object(field);
  if (v == nullptr) {
    auto arr = m.Array(field);
    if (arr.ok()) v = *arr;
  }
  if (v == nullptr) return "";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v->Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

// "name@version" or "name" (latest).
Result<std::pair<std::string, std::optional<int64_t>>> ParseRef(const std::string& ref,
                                                                std::string_view field) {
  size_t at = ref.rfind('@');
  if (ref.empty() || at == 0) {
    return InvalidArgument(std::string(field) + " must be NAME or NAME@VERSION");
  }
  if (at == std::string::npos) return std::make_pair(ref, std::optional<int64_t>());
  PLINTH_ASSIGN_OR_RETURN(int64_t v, ParseInt64(ref.substr(at + 1), field));
  return std::make_pair(ref.substr(0, at), std::optional<int64_t>(v));
}

Result<drift::DriftOptions> DriftOptionsFrom(const RequestMessage& m) {
  drift::DriftOptions o;
  auto method = [&](std::string_view field, std::optional<drift::Method>* into) -> Status {
    PLINTH_ASSIGN_OR_RETURN(auto id, m.String(field));
    if (!id || id->empty()) return Status();
    auto parsed = drift::MethodFromId(*id);
    if (!parsed.ok()) return InvalidArgument(std::string(field) + ": " + parsed.status().message());
    *into = *parsed;
    return Status();
  };
  PLINTH_RETURN_IF_ERROR(method("method", &o.method));
  PLINTH_RETURN_IF_ERROR(method("numerical_method", &o.numerical_method));
  PLINTH_RETURN_IF_ERROR(method("categorical_method", &o.categorical_method));
  PLINTH_ASSIGN_OR_RETURN(auto threshold, m.Double("threshold"));
  if (threshold) o.threshold = *threshold;
  PLINTH_ASSIGN_OR_RETURN(auto share, m.Double("drift_share"));
  if (share) o.drift_share = *share;
  if (const JsonValue* per = m.Object("column_methods"); per != nullptr && per->IsObject()) {
    for (auto it = per->MemberBegin(); it != per->MemberEnd(); ++it) {
      if (!it->value.IsString()) return InvalidArgument("column_methods values must be strings");
      auto parsed = drift::MethodFromId(it->value.GetString());
      if (!parsed.ok()) return InvalidArgument("column_methods: " + parsed.status().message());
      o.per_column[it->name.GetString()].method = *parsed;
    }
  }
  PLINTH_RETURN_IF_ERROR(o.Validate());
  return o;
}

}  // namespace

void RegisterDatasetApi(http::Router& router, data::DatasetService* service) {
  const std::string prefix = kPrefix;
  // Bytes: PUT streams in (verified against the digest), GET streams out.
  router.Add(
      Method::kPut, prefix + "/blobs/{digest}",
      [service](Request& req, Response& res) {
        auto stored = service->PutBlob(req.path_params[0], *req.body_stream);
        if (!stored.ok()) {
          http::WriteError(stored.status(), res);
          return;
        }
        res.SetJson(200, std::string("{\"stored\":") + (*stored ? "true" : "false") + "}");
      },
      http::RouteOptions{.streaming_body = true});
  router.Add(Method::kGet, prefix + "/blobs/{digest}", [service](Request& req, Response& res) {
    auto blob = service->GetBlob(req.path_params[0]);
    if (!blob.ok()) {
      http::WriteError(blob.status(), res);
      return;
    }
    res.status = 200;
    res.content_type = "application/octet-stream";
    res.stream = std::move(*blob);
  });
  // A CSV version's drift reference (drift_report.h), built on first use and kept: a client
  // tests its own current data against it without downloading the reference rows.
  // ?name=NAME&version=N (latest when absent).
  router.Add(Method::kGet, prefix + "/drift-reference", [service](Request& req, Response& res) {
    auto name = req.QueryParam("name");
    if (!name || name->empty()) {
      http::WriteError(InvalidArgument("name is required"), res);
      return;
    }
    std::optional<int64_t> version;
    if (auto v = req.QueryParam("version"); v && !v->empty()) {
      auto parsed = ParseInt64(*v, "version");
      if (!parsed.ok()) {
        http::WriteError(parsed.status(), res);
        return;
      }
      version = *parsed;
    }
    auto bytes = service->DriftReferenceBytes(*name, version);
    if (!bytes.ok()) {
      http::WriteError(bytes.status(), res);
      return;
    }
    res.status = 200;
    res.content_type = "application/octet-stream";
    res.body = std::move(*bytes);
  });
  router.Add(Method::kHead, prefix + "/blobs/{digest}", [service](Request& req, Response& res) {
    res.status = service->HasBlob(req.path_params[0]) ? 200 : 404;
    res.content_type = "application/octet-stream";
  });

  AddJsonRoute(router, Method::kPost, prefix + "/versions/create",
               [service](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 store::DatasetVersionRecord r;
                 PLINTH_ASSIGN_OR_RETURN(r.name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(r.digest, m.RequiredString("digest"));
                 PLINTH_ASSIGN_OR_RETURN(auto size, m.Int64("size_bytes"));
                 if (!size || *size < 0) {
                   return InvalidArgument("size_bytes must be a non-negative integer");
                 }
                 r.size_bytes = *size;
                 PLINTH_ASSIGN_OR_RETURN(auto source, m.String("source"));
                 r.source = source.value_or("");
                 PLINTH_ASSIGN_OR_RETURN(auto format, m.String("format"));
                 r.format = format.value_or("");
                 PLINTH_ASSIGN_OR_RETURN(r.num_rows, m.Int64("num_rows"));
                 PLINTH_ASSIGN_OR_RETURN(r.num_columns, m.Int64("num_columns"));
                 PLINTH_ASSIGN_OR_RETURN(auto description, m.String("description"));
                 r.description = description.value_or("");
                 PLINTH_ASSIGN_OR_RETURN(auto user, m.String("user_id"));
                 r.user_id = user.value_or("");
                 PLINTH_ASSIGN_OR_RETURN(r.validation_success, m.Bool("validation_success"));
                 r.schema_json = RawField(m, "schema");
                 r.profile_json = RawField(m, "profile");
                 r.validation_json = RawField(m, "validation");
                 bool created = false;
                 PLINTH_ASSIGN_OR_RETURN(
                     auto v, service->AddVersion(r, Clock::System()->NowMillis(), &created));
                 w.StartObject();
                 w.Key("dataset_version");
                 WriteVersion(w, v, false);
                 w.KeyBool("created", created);
                 w.EndObject();
                 return Status();
               });
  AddJsonRoute(router, Method::kGet, prefix + "/get",
               [service](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(auto version, m.Int64("version"));
                 PLINTH_ASSIGN_OR_RETURN(auto v, service->store().GetDatasetVersion(name, version));
                 w.StartObject();
                 w.Key("dataset_version");
                 WriteVersion(w, v, true);
                 w.EndObject();
                 return Status();
               });
  AddJsonRoute(router, Method::kGet, prefix + "/versions",
               [service](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(auto versions, service->store().ListDatasetVersions(name));
                 w.StartObject();
                 w.Key("dataset_versions");
                 w.StartArray();
                 for (const auto& v : versions) WriteVersion(w, v, false);
                 w.EndArray();
                 w.EndObject();
                 return Status();
               });
  AddJsonRoute(router, Method::kGet, prefix + "/list",
               [service](const Request&, const RequestMessage&, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(auto all, service->store().ListDatasets());
                 w.StartObject();
                 w.Key("datasets");
                 w.StartArray();
                 for (const auto& d : all) {
                   w.StartObject();
                   w.KeyString("name", d.name);
                   w.KeyInt64("latest_version", d.latest_version);
                   w.KeyInt64("versions", d.versions);
                   w.KeyInt64("creation_timestamp", d.creation_time);
                   w.KeyInt64("last_updated_timestamp", d.last_updated_time);
                   w.EndObject();
                 }
                 w.EndArray();
                 w.EndObject();
                 return Status();
               });
  // Drift between two stored dataset versions: {"reference": "name@v", "current": "name@v",
  // "method"?, "threshold"?, "drift_share"?, "column_methods"?: {col: method}}. The reference
  // is its stored drift reference (built on first use), so repeated reports against one
  // training set parse only the current data. "distributions": true adds each column's
  // reference and current shares per bin or category (what the HTML report draws).
  AddJsonRoute(router, Method::kPost, "/api/plinth/v1/drift",
               [service](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(std::string ref_text, m.RequiredString("reference"));
                 PLINTH_ASSIGN_OR_RETURN(std::string cur_text, m.RequiredString("current"));
                 PLINTH_ASSIGN_OR_RETURN(auto ref, ParseRef(ref_text, "reference"));
                 PLINTH_ASSIGN_OR_RETURN(auto cur, ParseRef(cur_text, "current"));
                 PLINTH_ASSIGN_OR_RETURN(drift::DriftOptions options, DriftOptionsFrom(m));
                 PLINTH_ASSIGN_OR_RETURN(auto distributions, m.Bool("distributions"));
                 PLINTH_ASSIGN_OR_RETURN(auto reference,
                                         service->DriftReferenceOf(ref.first, ref.second));
                 PLINTH_ASSIGN_OR_RETURN(auto current, service->ReadVersion(cur.first, cur.second));
                 auto drift = data::ComputeTableDrift(*reference, current.table, options,
                                                      distributions.value_or(false));
                 if (!drift.ok()) {
                   // An empty column or a test refused for a column is the caller's data.
                   return InvalidArgument(drift.status().message());
                 }
                 w.Raw(data::DriftToJson(*drift));
                 return Status();
               });
}

}  // namespace plinth::api
