#include "serving/server/model_source.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>

#include "artifacts/artifact_store.h"
#include "core/json.h"
#include "http/http_client.h"
#include "http/tracking_server.h"

namespace plinth::serving {
namespace {

namespace fs = std::filesystem;

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A folder name safe on any filesystem, stable for the same text.
std::string CacheKey(const std::string& text) {
  std::string safe;
  for (char c : text) {
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  }
  if (safe.size() > 80) safe = safe.substr(safe.size() - 80);
  return safe + "-" + std::to_string(std::hash<std::string>{}(text)&0xffffffff);
}

std::string Message(const std::string& body) {
  JsonDocument doc;
  if (ParseJson(body, &doc).ok() && doc.IsObject()) {
    auto m = JsonGetString(doc, "message");
    if (m.ok() && *m) return **m;
  }
  return body.substr(0, 300);
}

std::string EncodePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (!out.empty() || start > 0) out += '/';
    out += http::UrlEncode(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

Result<ModelUri> ParseModelUri(std::string_view text) {
  ModelUri uri;
  uri.text = std::string(text);
  if (text.empty()) return InvalidArgument("the model URI is empty");
  if (text.starts_with("models:/")) {
    std::string_view rest = text.substr(8);
    while (rest.starts_with("/")) rest.remove_prefix(1);
    while (rest.ends_with("/")) rest.remove_suffix(1);
    if (rest.empty()) return InvalidArgument("'" + uri.text + "' names no model");
    if (size_t at = rest.find('@'); at != std::string_view::npos) {
      uri.kind = ModelUri::Kind::kRegisteredAlias;
      uri.name = std::string(rest.substr(0, at));
      uri.alias = std::string(rest.substr(at + 1));
      if (uri.name.empty() || uri.alias.empty() || uri.alias.find('/') != std::string::npos) {
        return InvalidArgument("'" + uri.text + "' must look like models:/NAME@ALIAS");
      }
      return uri;
    }
    size_t slash = rest.rfind('/');
    if (slash == std::string_view::npos) {
      if (rest.starts_with("m-")) {
        uri.kind = ModelUri::Kind::kLoggedModel;
        uri.id = std::string(rest);
        return uri;
      }
      return InvalidArgument("'" + uri.text +
                             "' must look like models:/NAME/VERSION, models:/NAME@ALIAS or "
                             "models:/m-ID");
    }
    uri.kind = ModelUri::Kind::kRegisteredVersion;
    uri.name = std::string(rest.substr(0, slash));
    uri.version = std::string(rest.substr(slash + 1));  // a number, a stage or "latest"
    return uri;
  }
  if (text.starts_with("runs:/")) {
    std::string_view rest = text.substr(6);
    while (rest.starts_with("/")) rest.remove_prefix(1);
    size_t slash = rest.find('/');
    uri.kind = ModelUri::Kind::kRun;
    uri.id = std::string(rest.substr(0, slash));
    uri.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    while (!uri.path.empty() && uri.path.back() == '/') uri.path.pop_back();
    if (uri.id.empty()) return InvalidArgument("'" + uri.text + "' must be runs:/RUN_ID/PATH");
    return uri;
  }
  if (text.find("://") != std::string_view::npos && !text.starts_with("file://")) {
    return InvalidArgument("unsupported model URI '" + uri.text +
                           "': use a local folder, file://, models:/ or runs:/");
  }
  uri.kind = ModelUri::Kind::kLocal;
  uri.path = std::string(text.starts_with("file://") ? text.substr(7) : text);
  return uri;
}

ModelSource::ModelSource(std::string tracking_uri, fs::path cache_dir)
    : tracking_uri_(std::move(tracking_uri)), cache_dir_(std::move(cache_dir)) {
  // An invalid URI is reported by Get when the server is first needed (local folders need none).
  auto url = http::TrackingServerUrl(tracking_uri_);
  if (url.ok()) tracking_uri_ = *url;
}

Result<std::string> ModelSource::Get(const std::string& path_and_query) {
  if (!tracking_uri_.starts_with("http://") && !tracking_uri_.starts_with("https://")) {
    return InvalidArgument("the tracking URI must be a server's http:// or https:// URL, not '" +
                           tracking_uri_ + "'");
  }
  http::ClientRequest request;
  request.url = tracking_uri_ + path_and_query;
  request.headers = http::TrackingAuthHeaders();
  request.timeout_seconds = 120;
  PLINTH_ASSIGN_OR_RETURN(http::ClientResponse response, http::SendHttpRequest(request));
  if (response.status == 200) return std::move(response.body);
  std::string what = "the tracking server answered " + std::to_string(response.status) + " to " +
                     path_and_query.substr(0, path_and_query.find('?')) + ": " +
                     Message(response.body);
  if (response.status == 404) return NotFound(what);
  if (response.status >= 500) return Unavailable(what);
  return FailedPrecondition(what);
}

Result<std::string> ModelSource::ResolveAlias(const std::string& name, const std::string& alias) {
  PLINTH_ASSIGN_OR_RETURN(std::string body,
                          Get("/api/2.0/mlflow/registered-models/alias?name=" +
                              http::UrlEncode(name) + "&alias=" + http::UrlEncode(alias)));
  JsonDocument doc;
  PLINTH_RETURN_IF_ERROR(ParseJson(body, &doc));
  const JsonValue* mv = JsonFind(doc, "model_version");
  if (mv == nullptr || !mv->IsObject()) return NotFound("alias '" + alias + "' not found");
  PLINTH_ASSIGN_OR_RETURN(auto version, JsonGetString(*mv, "version"));
  if (!version) return NotFound("alias '" + alias + "' has no version");
  return *version;
}

Result<FetchedModel> ModelSource::Fetch(const ModelUri& uri, const std::string& version) {
  FetchedModel model;
  switch (uri.kind) {
    case ModelUri::Kind::kLocal: {
      std::error_code ec;
      fs::path dir = fs::absolute(uri.path, ec);
      if (!fs::is_directory(dir, ec)) {
        return NotFound("model folder '" + uri.path + "' does not exist");
      }
      model.directory = dir;
      model.name = dir.filename().string();
      if (model.name.empty()) model.name = dir.parent_path().filename().string();
      model.version = "1";
      model.source = dir.string();
      return model;
    }
    case ModelUri::Kind::kRegisteredAlias:
    case ModelUri::Kind::kRegisteredVersion: {
      model.name = uri.name;
      model.version = !version.empty() ? version : uri.version;
      if (model.version.empty()) {
        PLINTH_ASSIGN_OR_RETURN(model.version, ResolveAlias(uri.name, uri.alias));
      } else if (!AllDigits(model.version)) {
        // A stage ("Production") or "latest": the newest version in it.
        std::string stage = model.version;
        std::string query = "/api/2.0/mlflow/registered-models/get-latest-versions?name=" +
                            http::UrlEncode(uri.name);
        if (stage != "latest") query += "&stages=" + http::UrlEncode(stage);
        PLINTH_ASSIGN_OR_RETURN(std::string body, Get(query));
        JsonDocument doc;
        PLINTH_RETURN_IF_ERROR(ParseJson(body, &doc));
        const JsonValue* versions = JsonFind(doc, "model_versions");
        int64_t best = -1;
        if (versions != nullptr && versions->IsArray()) {
          for (const JsonValue& v : versions->GetArray()) {
            auto text = JsonGetString(v, "version");
            if (text.ok() && *text && AllDigits(**text)) {
              best = std::max<int64_t>(best, std::stoll(**text));
            }
          }
        }
        if (best < 0) {
          return NotFound("registered model '" + uri.name + "' has no version in stage '" + stage +
                          "'");
        }
        model.version = std::to_string(best);
      }
      PLINTH_ASSIGN_OR_RETURN(
          std::string body,
          Get("/api/2.0/mlflow/model-versions/get-download-uri?name=" + http::UrlEncode(uri.name) +
              "&version=" + http::UrlEncode(model.version)));
      JsonDocument doc;
      PLINTH_RETURN_IF_ERROR(ParseJson(body, &doc));
      PLINTH_ASSIGN_OR_RETURN(auto artifact_uri, JsonGetString(doc, "artifact_uri"));
      if (!artifact_uri || artifact_uri->empty()) {
        return NotFound("model version " + uri.name + "/" + model.version +
                        " has no artifact location");
      }
      return FetchArtifacts(*artifact_uri, std::move(model));
    }
    case ModelUri::Kind::kLoggedModel: {
      PLINTH_ASSIGN_OR_RETURN(std::string body,
                              Get("/api/2.0/mlflow/logged-models/" + http::UrlEncode(uri.id)));
      JsonDocument doc;
      PLINTH_RETURN_IF_ERROR(ParseJson(body, &doc));
      const JsonValue* m = JsonFind(doc, "model");
      const JsonValue* info = m != nullptr ? JsonFind(*m, "info") : nullptr;
      if (info == nullptr) return NotFound("logged model " + uri.id + " not found");
      PLINTH_ASSIGN_OR_RETURN(auto artifact_uri, JsonGetString(*info, "artifact_uri"));
      if (!artifact_uri) return NotFound("logged model " + uri.id + " has no artifact location");
      model.name = uri.id;
      model.version = "1";
      return FetchArtifacts(*artifact_uri, std::move(model));
    }
    case ModelUri::Kind::kRun: {
      PLINTH_ASSIGN_OR_RETURN(std::string body,
                              Get("/api/2.0/mlflow/runs/get?run_id=" + http::UrlEncode(uri.id)));
      JsonDocument doc;
      PLINTH_RETURN_IF_ERROR(ParseJson(body, &doc));
      const JsonValue* run = JsonFind(doc, "run");
      const JsonValue* info = run != nullptr ? JsonFind(*run, "info") : nullptr;
      if (info == nullptr) return NotFound("run " + uri.id + " not found");
      PLINTH_ASSIGN_OR_RETURN(auto root, JsonGetString(*info, "artifact_uri"));
      if (!root) return NotFound("run " + uri.id + " has no artifact location");
      model.name = uri.path.empty() ? uri.id : fs::path(uri.path).filename().string();
      model.version = "1";
      return FetchArtifacts(uri.path.empty() ? *root : *root + "/" + uri.path, std::move(model));
    }
  }
  return Internal("unknown model URI kind");
}

Result<FetchedModel> ModelSource::FetchArtifacts(const std::string& artifact_uri,
                                                 FetchedModel model) {
  model.source = artifact_uri;
  fs::path target = cache_dir_ / CacheKey(model.name + "-v" + model.version + "-" + artifact_uri);
  std::error_code ec;
  if (fs::exists(target / ".plinth-complete", ec)) {
    model.directory = target;
    return model;
  }
  fs::create_directories(cache_dir_, ec);
  if (ec) return Internal("cannot create the model cache " + cache_dir_.string());
  std::random_device rd;
  fs::path staging = target;
  staging += ".tmp-" + std::to_string(rd());
  fs::create_directories(staging, ec);
  if (ec) return Internal("cannot create " + staging.string() + ": " + ec.message());
  Status s;
  if (artifact_uri.starts_with("mlflow-artifacts:")) {
    std::string_view path = std::string_view(artifact_uri).substr(17);
    if (path.starts_with("//")) {  // mlflow-artifacts://host:port/path: the host is ours
      path.remove_prefix(2);
      size_t slash = path.find('/');
      path = slash == std::string_view::npos ? "" : path.substr(slash);
    }
    while (path.starts_with("/")) path.remove_prefix(1);
    s = DownloadProxyFolder(std::string(path), staging, 0);
  } else {
    s = DownloadStoreFolder(artifact_uri, staging);
  }
  if (s.ok() && !fs::exists(staging / "MLmodel", ec)) {
    s = NotFound("no MLmodel file at " + artifact_uri);
  }
  if (!s.ok()) {
    fs::remove_all(staging, ec);
    return s;
  }
  std::ofstream(staging / ".plinth-complete") << artifact_uri << "\n";
  fs::remove_all(target, ec);
  fs::rename(staging, target, ec);
  if (ec) return Internal("cannot move the downloaded model into " + target.string());
  model.directory = target;
  return model;
}

Status ModelSource::DownloadProxyFolder(const std::string& store_path, const fs::path& to,
                                        int depth) {
  if (depth > 32) return FailedPrecondition("artifact folders nest too deep at " + store_path);
  PLINTH_ASSIGN_OR_RETURN(std::string body, Get("/api/2.0/mlflow-artifacts/artifacts?path=" +
                                                http::UrlEncode(store_path)));
  JsonDocument doc;
  PLINTH_RETURN_IF_ERROR(ParseJson(body, &doc));
  const JsonValue* files = JsonFind(doc, "files");
  if (files == nullptr || !files->IsArray()) return Status();
  for (const JsonValue& f : files->GetArray()) {
    PLINTH_ASSIGN_OR_RETURN(auto path, JsonGetString(f, "path"));
    if (!path || path->empty()) continue;
    std::string name = fs::path(*path).filename().string();
    if (name.empty() || name == "." || name == "..") continue;
    std::string child = store_path.empty() ? name : store_path + "/" + name;
    PLINTH_ASSIGN_OR_RETURN(auto is_dir, JsonGetBool(f, "is_dir"));
    if (is_dir.value_or(false)) {
      std::error_code ec;
      fs::create_directories(to / name, ec);
      PLINTH_RETURN_IF_ERROR(DownloadProxyFolder(child, to / name, depth + 1));
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(std::string content,
                            Get("/api/2.0/mlflow-artifacts/artifacts/" + EncodePath(child)));
    std::ofstream out(to / name, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return Internal("cannot write " + (to / name).string());
  }
  return Status();
}

Status ModelSource::DownloadStoreFolder(const std::string& artifact_uri, const fs::path& to) {
  PLINTH_ASSIGN_OR_RETURN(auto store, artifacts::OpenArtifactStoreFromUri(artifact_uri));
  std::function<Status(const std::string&, const fs::path&, int)> walk =
      [&](const std::string& rel, const fs::path& dir, int depth) -> Status {
    if (depth > 32) return FailedPrecondition("artifact folders nest too deep");
    PLINTH_ASSIGN_OR_RETURN(auto entries, store->List(rel));
    for (const auto& e : entries) {
      std::string name = fs::path(e.path).filename().string();
      std::string child = rel.empty() ? name : rel + "/" + name;
      if (e.is_dir) {
        std::error_code ec;
        fs::create_directories(dir / name, ec);
        PLINTH_RETURN_IF_ERROR(walk(child, dir / name, depth + 1));
        continue;
      }
      PLINTH_ASSIGN_OR_RETURN(auto source, store->Get(child));
      std::ofstream out(dir / name, std::ios::binary);
      char buf[1 << 16];
      while (true) {
        PLINTH_ASSIGN_OR_RETURN(size_t n, source->Read(buf, sizeof(buf)));
        if (n == 0) break;
        out.write(buf, static_cast<std::streamsize>(n));
      }
      if (!out) return Internal("cannot write " + (dir / name).string());
    }
    return Status();
  };
  return walk("", to, 0);
}

}  // namespace plinth::serving
