#include "registry/registry_service.h"

#include <algorithm>
#include <map>

#include "core/json.h"
#include "registry/model_source.h"
#include "registry/python_format.h"
#include "registry/registry_rules.h"
#include "tracking/search_filter.h"

namespace plinth::registry {
namespace {

constexpr const char* kPromptTag = "mlflow.prompt.is_prompt";
constexpr const char* kModelVersionsTag = "mlflow.modelVersions";

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

Status InvalidSource(const std::string& source, const char* id_field) {
  return InvalidArgument("Invalid model version source: '" + source + "'. The " +
                         std::string(id_field) +
                         " request parameter must identify the resource that contains the "
                         "source.");
}

Status ValidateMaxResults(std::optional<int64_t> requested, int64_t limit, int64_t* out,
                          int64_t fallback) {
  const int64_t n = requested.value_or(fallback);
  if (n < 1) {
    return InvalidArgument(
        "Invalid value for max_results. It must be a positive integer, but got " +
        std::to_string(n));
  }
  if (n > limit) {
    return InvalidArgument("Invalid value for request parameter max_results. It must be at most " +
                           std::to_string(limit) + ", but got value " + std::to_string(n));
  }
  *out = n;
  return Status::Ok();
}

template <typename T>
Paged<T> ToPaged(std::vector<T> items, bool has_more, int64_t offset, int64_t max_results) {
  Paged<T> out;
  out.items = std::move(items);
  if (has_more) out.next_page_token = tracking::EncodePageToken(offset + max_results);
  return out;
}

// MLflow hides prompts (models tagged mlflow.prompt.is_prompt = 'true') unless the filter asks for
// them; a filter on that tag that does not ask for prompts is dropped (_is_querying_prompt and
// _update_query_to_exclude_prompts of its SQL registry store).
bool QueriesPrompts(store::Filter* filter) {
  for (const store::FilterClause& c : filter->clauses) {
    if (c.entity != store::EntityKind::kTag || c.key != kPromptTag) continue;
    const std::string v = Lower(c.string_value);
    if ((c.comparator == store::Comparator::kEq && v == "true") ||
        (c.comparator == store::Comparator::kNe && v == "false")) {
      return true;
    }
    break;
  }
  std::erase_if(filter->clauses, [](const store::FilterClause& c) {
    return c.entity == store::EntityKind::kTag && c.key == kPromptTag;
  });
  return false;
}

bool IsPromptTags(const std::vector<KeyValue>& tags) {
  std::string value = "false";
  for (const KeyValue& t : tags) {
    if (t.key == kPromptTag) value = t.value;  // the last value of a key wins
  }
  return Lower(value) == "true";
}

// json.dumps() of a parsed JSON value, as Python prints it (", " and ": " separators, non-ASCII
// escaped), so the tags MLflow's clients read back look as MLflow's server writes them.
std::string PythonJsonDumps(const JsonValue& v) {
  if (v.IsString()) return PythonJsonString({v.GetString(), v.GetStringLength()});
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "null";
  if (v.IsArray()) {
    std::string out = "[";
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      out += (i ? ", " : "") + PythonJsonDumps(v[i]);
    }
    return out + "]";
  }
  if (v.IsObject()) {
    std::string out = "{";
    bool first = true;
    for (const auto& m : v.GetObject()) {
      out += (first ? "" : ", ") +
             PythonJsonString({m.name.GetString(), m.name.GetStringLength()}) + ": " +
             PythonJsonDumps(m.value);
      first = false;
    }
    return out + "}";
  }
  JsonWriter w;
  w.Double(v.GetDouble());
  return w.Take();
}

}  // namespace

RegistryService::RegistryService(store::MetadataStore* store, Clock* clock)
    : store_(store), registry_(&store->registry()), clock_(clock) {}

// ---------------------------------------------------------------- registered models

Result<RegisteredModel> RegistryService::CreateRegisteredModel(const std::string& name,
                                                               const std::vector<KeyValue>& tags,
                                                               const std::string& description) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  for (const KeyValue& t : tags) PLINTH_RETURN_IF_ERROR(ValidateRegistryTag(t.key, t.value));
  RegisteredModel m;
  m.name = name;
  m.creation_timestamp = clock_->NowMillis();
  m.last_updated_timestamp = m.creation_timestamp;
  m.description = description;
  m.tags = tags;
  PLINTH_RETURN_IF_ERROR(registry_->CreateRegisteredModel(m));
  return registry_->GetRegisteredModel(name);
}

Result<RegisteredModel> RegistryService::GetRegisteredModel(const std::string& name) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  return registry_->GetRegisteredModel(name);
}

Result<RegisteredModel> RegistryService::RenameRegisteredModel(const std::string& name,
                                                               const std::string& new_name) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(new_name, "new_name"));
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(registry_->RenameRegisteredModel(name, new_name, clock_->NowMillis()));
  return registry_->GetRegisteredModel(new_name);
}

Result<RegisteredModel> RegistryService::UpdateRegisteredModel(
    const std::string& name, const std::optional<std::string>& description) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(registry_->UpdateRegisteredModel(name, description, clock_->NowMillis()));
  return registry_->GetRegisteredModel(name);
}

Status RegistryService::DeleteRegisteredModel(const std::string& name) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  return registry_->DeleteRegisteredModel(name);
}

Result<Paged<RegisteredModel>> RegistryService::SearchRegisteredModels(
    const RegistrySearchRequest& request) {
  store::RegisteredModelSearch search;
  PLINTH_RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxSearchRegisteredModels,
                                            &search.max_results, kDefaultSearchRegisteredModels));
  PLINTH_ASSIGN_OR_RETURN(search.filter, tracking::ParseRegisteredModelFilter(request.filter));
  PLINTH_ASSIGN_OR_RETURN(search.order_by, tracking::ParseRegisteredModelOrderBy(request.order_by));
  PLINTH_ASSIGN_OR_RETURN(search.offset, tracking::DecodePageToken(request.page_token));
  search.include_prompts = QueriesPrompts(&search.filter);
  PLINTH_ASSIGN_OR_RETURN(store::RegisteredModelPage page,
                          registry_->SearchRegisteredModels(search));
  return ToPaged(std::move(page.models), page.has_more, search.offset, search.max_results);
}

Result<std::vector<ModelVersion>> RegistryService::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  std::vector<std::string> wanted;
  for (const std::string& stage : stages) {
    PLINTH_ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
    wanted.push_back(std::move(canonical));
  }
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_ASSIGN_OR_RETURN(RegisteredModel model, registry_->GetRegisteredModel(name));
  std::vector<ModelVersion> out;
  for (ModelVersion& v : model.latest_versions) {
    if (!wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), v.current_stage) == wanted.end()) {
      continue;
    }
    for (const store::ModelAlias& a : model.aliases) {
      if (a.version == v.version) v.aliases.push_back(a.alias);
    }
    out.push_back(std::move(v));
  }
  return out;
}

Status RegistryService::SetRegisteredModelTag(const std::string& name, const KeyValue& tag) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
  return registry_->SetRegisteredModelTag(name, tag);
}

Status RegistryService::DeleteRegisteredModelTag(const std::string& name, const std::string& key) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
  return registry_->DeleteRegisteredModelTag(name, key);
}

// ---------------------------------------------------------------- model versions

Result<ModelVersion> RegistryService::CreateModelVersion(const CreateModelVersionRequest& request) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(request.name));
  for (const KeyValue& t : request.tags) {
    PLINTH_RETURN_IF_ERROR(ValidateRegistryTag(t.key, t.value));
  }
  if (request.source.empty()) {
    return InvalidArgument("Missing value for required parameter 'source'.");
  }
  const bool prompt = IsPromptTags(request.tags);
  ResolvedSource resolved{request.source, "", request.run_id.value_or(""),
                          request.model_id.value_or("")};
  if (!prompt) {
    // Prompts carry a placeholder source that names no files.
    PLINTH_ASSIGN_OR_RETURN(resolved, ResolveSource(request));
  }
  ModelVersion v;
  v.name = request.name;
  v.creation_timestamp = clock_->NowMillis();
  v.last_updated_timestamp = v.creation_timestamp;
  v.description = request.description.value_or("");
  v.source = resolved.source;
  v.storage_location = resolved.storage_location;
  v.run_id = resolved.run_id;
  v.run_link = request.run_link;
  v.model_id = resolved.model_id;
  v.tags = request.tags;
  PLINTH_ASSIGN_OR_RETURN(ModelVersion created, registry_->CreateModelVersion(v));
  if (!prompt && !resolved.model_id.empty()) {
    PLINTH_RETURN_IF_ERROR(TagLoggedModel(resolved.model_id, created.name, created.version));
  }
  return created;
}

// MLflow's _resolve_registered_model_source_lineage, _validate_source_run/_model and the source
// handling of its SQL store's create_model_version, in that order.
Result<RegistryService::ResolvedSource> RegistryService::ResolveSource(
    const CreateModelVersionRequest& request) {
  ResolvedSource out{request.source, "", request.run_id.value_or(""),
                     request.model_id.value_or("")};
  const UriParts uri = SplitUri(request.source);
  std::optional<ModelsUri> models;
  if (uri.scheme == "models") {
    if (!uri.netloc.empty()) {
      return InvalidArgument("Invalid model version source: '" + request.source +
                             "'. Registered model sources must use the active model registry.");
    }
    auto parsed = ParseModelsUri(request.source);
    if (!parsed.ok()) return InvalidSource(request.source, "model_id");
    models = std::move(*parsed);
    if (models->model_id.empty()) {
      // Another registered version: copy its lineage and point at its files.
      PLINTH_ASSIGN_OR_RETURN(RegisteredModel other, registry_->GetRegisteredModel(models->name));
      for (const KeyValue& t : other.tags) {
        if (t.key == kPromptTag && Lower(t.value) == "true") {
          return InvalidArgument("Invalid model version source: '" + request.source +
                                 "'. Prompt versions cannot be used as model version sources.");
        }
      }
      int64_t number = 0;
      if (models->version) {
        number = *models->version;
      } else if (!models->alias.empty()) {
        PLINTH_ASSIGN_OR_RETURN(ModelVersion aliased,
                                GetModelVersionByAlias(models->name, models->alias));
        number = aliased.version;
      } else {
        std::vector<std::string> stages;
        if (!models->stage.empty()) stages.push_back(models->stage);
        PLINTH_ASSIGN_OR_RETURN(std::vector<ModelVersion> latest,
                                GetLatestVersions(models->name, stages));
        if (latest.empty()) {
          return NotFound("No versions of model with name '" + models->name + "'" +
                          (models->stage.empty() ? "" : " and stage '" + models->stage + "'") +
                          " found");
        }
        for (const ModelVersion& v : latest) number = std::max(number, v.version);
      }
      PLINTH_ASSIGN_OR_RETURN(ModelVersion origin,
                              registry_->GetModelVersion(models->name, number));
      if ((request.run_id && *request.run_id != origin.run_id) ||
          (request.model_id && *request.model_id != origin.model_id)) {
        return InvalidArgument("Invalid model version source: '" + request.source +
                               "'. The run_id and model_id request parameters must match the "
                               "referenced model version.");
      }
      out.source = "models:/" + models->name + "/" + std::to_string(origin.version);
      out.run_id = request.run_id.value_or(origin.run_id);
      out.model_id = request.model_id.value_or(origin.model_id);
      out.storage_location =
          origin.storage_location.empty() ? origin.source : origin.storage_location;
    }
  }
  if (!out.model_id.empty()) {
    PLINTH_RETURN_IF_ERROR(ValidateModelSource(out.source, out.model_id));
  } else {
    PLINTH_RETURN_IF_ERROR(ValidateRunSource(out.source, out.run_id));
  }
  auto logged_model = [this, &out](const std::string& id) -> Result<store::LoggedModel> {
    auto model = store_->GetLoggedModel(id);
    if (!model.ok() && model.status().code() == StatusCode::kNotFound) {
      return InvalidArgument("Unable to fetch model from model URI source artifact location '" +
                             out.source + "'.Error: " + model.status().message());
    }
    return model;
  };
  if (models && !models->model_id.empty()) {
    // The logged model's files, and the run that produced it.
    PLINTH_ASSIGN_OR_RETURN(store::LoggedModel model, logged_model(models->model_id));
    out.storage_location = model.artifact_uri;
    if (out.run_id.empty()) out.run_id = model.source_run_id;
  }
  if (out.run_id.empty() && !out.model_id.empty()) {
    PLINTH_ASSIGN_OR_RETURN(store::LoggedModel model, logged_model(out.model_id));
    out.run_id = model.source_run_id;
  }
  return out;
}

Status RegistryService::ValidateRunSource(const std::string& source, const std::string& run_id) {
  if (IsLocalUri(source)) {
    if (!run_id.empty()) {
      auto run = store_->GetRun(run_id);
      if (!run.ok() && run.status().code() != StatusCode::kNotFound) return run.status();
      if (run.ok() && IsLocalUri(run->info.artifact_uri) &&
          IsLocalPathWithin(source, run->info.artifact_uri)) {
        return Status::Ok();
      }
      if (!run.ok()) return InvalidSource(source, "run_id");
    }
    return InvalidArgument("Invalid model version source: '" + source +
                           "'. To use a local path as a model version source, the run_id "
                           "request parameter has to be specified and the local path has to be "
                           "contained within the artifact directory of the run specified by the "
                           "run_id.");
  }
  PLINTH_RETURN_IF_ERROR(CheckAbsoluteSourcePath(source));
  const UriParts uri = SplitUri(source);
  if (uri.scheme == "runs") {
    if (!uri.netloc.empty()) return InvalidSource(source, "run_id");
    PLINTH_ASSIGN_OR_RETURN(std::string source_run, RunIdOfRunsUri(source));
    if (!run_id.empty() && source_run == run_id) return Status::Ok();
    return InvalidSource(source, "run_id");
  }
  if (uri.scheme == "models") {
    if (!uri.netloc.empty()) return InvalidSource(source, "model_id");
    auto parsed = ParseModelsUri(source);
    if (!parsed.ok() || !parsed->model_id.empty()) return InvalidSource(source, "model_id");
  }
  if (IsProxiedArtifactSource(source)) {
    if (!run_id.empty()) {
      auto run = store_->GetRun(run_id);
      if (!run.ok() && run.status().code() != StatusCode::kNotFound) return run.status();
      if (run.ok() && IsUriWithinRoot(source, run->info.artifact_uri)) return Status::Ok();
    }
    return InvalidSource(source, "run_id");
  }
  return Status::Ok();
}

Status RegistryService::ValidateModelSource(const std::string& source,
                                            const std::string& model_id) {
  if (IsLocalUri(source)) {
    auto model = store_->GetLoggedModel(model_id);
    if (!model.ok() && model.status().code() != StatusCode::kNotFound) return model.status();
    if (!model.ok()) return InvalidSource(source, "model_id");
    if (IsLocalUri(model->artifact_uri) && IsLocalPathWithin(source, model->artifact_uri)) {
      return Status::Ok();
    }
    return InvalidArgument("Invalid model version source: '" + source +
                           "'. To use a local path as a model version source, the model_id "
                           "request parameter has to be specified and the local path has to be "
                           "contained within the artifact directory of the run specified by the "
                           "model_id.");
  }
  PLINTH_RETURN_IF_ERROR(CheckAbsoluteSourcePath(source));
  const UriParts uri = SplitUri(source);
  if (uri.scheme == "models") {
    if (!uri.netloc.empty()) return InvalidSource(source, "model_id");
    auto parsed = ParseModelsUri(source);
    if (!parsed.ok()) return InvalidSource(source, "model_id");
    if (!parsed->model_id.empty()) {
      return parsed->model_id == model_id ? Status::Ok() : InvalidSource(source, "model_id");
    }
  }
  if (uri.scheme == "runs") return InvalidSource(source, "model_id");
  if (IsProxiedArtifactSource(source)) {
    auto model = store_->GetLoggedModel(model_id);
    if (!model.ok() && model.status().code() != StatusCode::kNotFound) return model.status();
    if (model.ok() && IsUriWithinRoot(source, model->artifact_uri)) return Status::Ok();
    return InvalidSource(source, "model_id");
  }
  return Status::Ok();
}

Status RegistryService::TagLoggedModel(const std::string& model_id, const std::string& name,
                                       int64_t version) {
  auto model = store_->GetLoggedModel(model_id);
  if (!model.ok()) {
    // A model deleted meanwhile keeps no record; the version is registered all the same.
    return model.status().code() == StatusCode::kNotFound ? Status::Ok() : model.status();
  }
  std::vector<std::string> entries;
  bool present = false;
  for (const KeyValue& t : model->tags) {
    if (t.key != kModelVersionsTag) continue;
    JsonDocument doc;
    if (!ParseJson(t.value, &doc).ok() || !doc.IsArray()) break;
    for (const JsonValue& item : doc.GetArray()) {
      entries.push_back(PythonJsonDumps(item));
      const JsonValue* n = item.IsObject() ? JsonFind(item, "name") : nullptr;
      const JsonValue* v = item.IsObject() ? JsonFind(item, "version") : nullptr;
      present = present || (item.MemberCount() == 2 && n != nullptr && n->IsString() &&
                            n->GetString() == name && v != nullptr && v->IsInt64() &&
                            v->GetInt64() == version);
    }
  }
  if (present) return Status::Ok();
  entries.push_back("{\"name\": " + PythonJsonString(name) +
                    ", \"version\": " + std::to_string(version) + "}");
  std::string value = "[";
  for (size_t i = 0; i < entries.size(); ++i) value += (i ? ", " : "") + entries[i];
  value += "]";
  return store_->SetLoggedModelTags(model_id, {{kModelVersionsTag, value}}, clock_->NowMillis());
}

Result<ModelVersion> RegistryService::GetModelVersion(const std::string& name,
                                                      const std::string& version) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  return registry_->GetModelVersion(name, number);
}

Result<ModelVersion> RegistryService::UpdateModelVersion(
    const std::string& name, const std::string& version,
    const std::optional<std::string>& description) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  PLINTH_RETURN_IF_ERROR(
      registry_->UpdateModelVersion(name, number, description, clock_->NowMillis()));
  return registry_->GetModelVersion(name, number);
}

Result<ModelVersion> RegistryService::TransitionModelVersionStage(const std::string& name,
                                                                  const std::string& version,
                                                                  const std::string& stage,
                                                                  bool archive_existing_versions) {
  PLINTH_ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
  if (archive_existing_versions && !IsActiveStage(canonical)) {
    return InvalidArgument(
        "Model version transition cannot archive existing model versions because '" + stage +
        "' is not an Active stage. Valid stages are ['Staging', 'Production']");
  }
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  PLINTH_RETURN_IF_ERROR(registry_->TransitionModelVersionStage(
      name, number, canonical, archive_existing_versions, clock_->NowMillis()));
  return registry_->GetModelVersion(name, number);
}

Status RegistryService::DeleteModelVersion(const std::string& name, const std::string& version) {
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  store::AliasChange change;
  change.action = "version_deleted";
  change.timestamp = clock_->NowMillis();
  return registry_->DeleteModelVersion(name, number, change);
}

Result<Paged<ModelVersion>> RegistryService::SearchModelVersions(
    const RegistrySearchRequest& request) {
  store::ModelVersionSearch search;
  PLINTH_RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxSearchModelVersions,
                                            &search.max_results, kDefaultSearchModelVersions));
  PLINTH_ASSIGN_OR_RETURN(search.filter, tracking::ParseModelVersionFilter(request.filter));
  // MLflow's default order: the most recently updated first.
  std::vector<std::string> order_by = request.order_by;
  if (order_by.empty()) {
    order_by = {"last_updated_timestamp DESC", "name ASC", "version_number DESC"};
  }
  PLINTH_ASSIGN_OR_RETURN(search.order_by, tracking::ParseModelVersionOrderBy(order_by));
  PLINTH_ASSIGN_OR_RETURN(search.offset, tracking::DecodePageToken(request.page_token));
  search.include_prompts = QueriesPrompts(&search.filter);
  PLINTH_ASSIGN_OR_RETURN(store::ModelVersionPage page, registry_->SearchModelVersions(search));
  return ToPaged(std::move(page.versions), page.has_more, search.offset, search.max_results);
}

Result<std::string> RegistryService::GetModelVersionDownloadUri(const std::string& name,
                                                                const std::string& version) {
  PLINTH_ASSIGN_OR_RETURN(ModelVersion v, GetModelVersion(name, version));
  return v.storage_location.empty() ? v.source : v.storage_location;
}

Status RegistryService::SetModelVersionTag(const std::string& name, const std::string& version,
                                           const KeyValue& tag) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  PLINTH_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
  return registry_->SetModelVersionTag(name, number, tag);
}

Status RegistryService::DeleteModelVersionTag(const std::string& name, const std::string& version,
                                              const std::string& key) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  PLINTH_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
  return registry_->DeleteModelVersionTag(name, number, key);
}

// ---------------------------------------------------------------- aliases

Status RegistryService::SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                                const std::string& version,
                                                const std::string& user) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateAlias(alias, /*reserved=*/true));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  store::AliasChange change;
  change.action = "set";
  change.user_id = user;
  change.timestamp = clock_->NowMillis();
  return registry_->SetRegisteredModelAlias(name, alias, number, change);
}

Status RegistryService::DeleteRegisteredModelAlias(const std::string& name,
                                                   const std::string& alias,
                                                   const std::string& user) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateAlias(alias, /*reserved=*/false));
  store::AliasChange change;
  change.action = "delete";
  change.user_id = user;
  change.timestamp = clock_->NowMillis();
  return registry_->DeleteRegisteredModelAlias(name, alias, change);
}

Result<ModelVersion> RegistryService::GetModelVersionByAlias(const std::string& name,
                                                             const std::string& alias) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateAlias(alias, /*reserved=*/false));
  if (IsLatestAlias(alias)) return LatestVersion(name);
  return registry_->GetModelVersionByAlias(name, alias);
}

Result<ModelVersion> RegistryService::LatestVersion(const std::string& name) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<ModelVersion> latest, GetLatestVersions(name, {}));
  if (latest.empty()) return NotFound("Latest version not found for model " + name + ".");
  auto newest = std::max_element(
      latest.begin(), latest.end(),
      [](const ModelVersion& a, const ModelVersion& b) { return a.version < b.version; });
  return std::move(*newest);
}

Result<std::optional<int64_t>> RegistryService::AliasHolder(const std::string& name,
                                                            const std::string& alias) {
  PLINTH_ASSIGN_OR_RETURN(RegisteredModel model, registry_->GetRegisteredModel(name));
  for (const store::ModelAlias& a : model.aliases) {
    if (a.alias == alias) return std::optional<int64_t>(a.version);
  }
  return std::optional<int64_t>();
}

// ---------------------------------------------------------------- promote, rollback, lineage

Result<AliasMove> RegistryService::Promote(const std::string& name, const std::string& alias,
                                           const std::string& version, const std::string& user) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateAlias(alias, /*reserved=*/true));
  PLINTH_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  // Compare-and-set, so the move reports exactly the version it replaced even when other
  // replicas move the alias at the same time.
  constexpr int kAttempts = 5;
  for (int attempt = 0;; ++attempt) {
    PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> current, AliasHolder(name, alias));
    store::AliasChange change;
    change.action = "promote";
    change.user_id = user;
    change.timestamp = clock_->NowMillis();
    change.expected_version = current.value_or(0);
    Status moved = registry_->SetRegisteredModelAlias(name, alias, number, change);
    if (moved.code() == StatusCode::kConflict && attempt + 1 < kAttempts) continue;
    PLINTH_RETURN_IF_ERROR(moved);
    AliasMove out;
    out.alias = alias;
    out.from = current;
    out.to = number;
    PLINTH_ASSIGN_OR_RETURN(out.version, registry_->GetModelVersion(name, number));
    return out;
  }
}

Result<AliasMove> RegistryService::Rollback(const std::string& name, const std::string& alias,
                                            const std::string& user) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  PLINTH_RETURN_IF_ERROR(ValidateAlias(alias, /*reserved=*/false));
  PLINTH_ASSIGN_OR_RETURN(std::vector<AliasEvent> history,
                          registry_->ListAliasHistory(name, alias));
  // The history as a stack of holders: a move pushes its version (none for a removal), a
  // rollback pops back to the version it returned to.
  std::vector<std::optional<int64_t>> stack;
  for (const AliasEvent& e : history) {
    if (e.action == "rollback") {
      while (!stack.empty() && stack.back() != e.version) stack.pop_back();
      if (stack.empty()) stack.push_back(e.version);
    } else {
      stack.push_back(e.version);
    }
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> current, AliasHolder(name, alias));
  std::optional<int64_t> target;
  while (!stack.empty()) {
    std::optional<int64_t> top = stack.back();
    stack.pop_back();
    if (top && top != current) {
      target = top;
      break;
    }
  }
  if (!target) {
    return FailedPrecondition("Alias '" + alias + "' of registered model '" + name +
                              "' has no previous holder to roll back to.");
  }
  auto previous = registry_->GetModelVersion(name, *target);
  if (!previous.ok()) {
    if (previous.status().code() != StatusCode::kNotFound) return previous.status();
    return FailedPrecondition("Version " + std::to_string(*target) + " of registered model '" +
                              name + "', the previous holder of alias '" + alias +
                              "', was deleted; point the alias at a version explicitly.");
  }
  store::AliasChange change;
  change.action = "rollback";
  change.user_id = user;
  change.timestamp = clock_->NowMillis();
  change.expected_version = current.value_or(0);
  PLINTH_RETURN_IF_ERROR(registry_->SetRegisteredModelAlias(name, alias, *target, change));
  AliasMove out;
  out.alias = alias;
  out.from = current;
  out.to = *target;
  PLINTH_ASSIGN_OR_RETURN(out.version, registry_->GetModelVersion(name, *target));
  return out;
}

Result<std::vector<AliasEvent>> RegistryService::AliasHistory(const std::string& name,
                                                              const std::string& alias) {
  PLINTH_RETURN_IF_ERROR(ValidateModelName(name));
  if (!alias.empty()) PLINTH_RETURN_IF_ERROR(ValidateAlias(alias, /*reserved=*/false));
  return registry_->ListAliasHistory(name, alias);
}

Result<Lineage> RegistryService::GetLineage(const std::string& name, const std::string& version) {
  Lineage out;
  PLINTH_ASSIGN_OR_RETURN(out.version, GetModelVersion(name, version));
  if (out.version.run_id.empty()) return out;
  auto run = store_->GetRun(out.version.run_id);
  if (run.ok()) {
    out.run = std::move(*run);
  } else if (run.status().code() == StatusCode::kNotFound) {
    out.run_missing = run.status().message();
  } else {
    return run.status();
  }
  return out;
}

}  // namespace plinth::registry
