#include "cli/deploy_command.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/json.h"
#include "serving/server/model_source.h"

namespace plinth {
namespace {

namespace fs = std::filesystem;

// Debian bookworm packages holding the shared libraries `plinth` links (ldd + dpkg -S; the
// deploy test checks the list against the binary, so a new dependency cannot be forgotten).
constexpr const char* kRuntimePackages[] = {
    "libcurl4",       "libpq5",      "libsqlite3-0", "libssl3",    "libfmt9",  "libspdlog1.10",
    "libyaml-cpp0.7", "libxgboost0", "libexpat1",    "libstdc++6", "libgomp1", nullptr};

constexpr const char* kModelDirInImage = "/opt/plinth/model";
constexpr int kUid = 10001;

// A YAML double-quoted scalar (JSON string syntax is valid YAML).
std::string Q(std::string_view s) {
  JsonWriter w;
  w.String(s);
  return w.Take();
}

// A DNS-1123 label from `text`: lower-case alphanumerics and '-', at most 63 characters.
std::string DnsLabel(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) out.resize(50);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "model" : out;
}

std::string DefaultName(const serving::ModelUri& uri) {
  switch (uri.kind) {
    case serving::ModelUri::Kind::kLocal: {
      fs::path p = fs::path(uri.path).lexically_normal();
      std::string name = p.filename().string();
      if (name.empty()) name = p.parent_path().filename().string();
      return name;
    }
    case serving::ModelUri::Kind::kRegisteredAlias:
    case serving::ModelUri::Kind::kRegisteredVersion:
      return uri.name;
    default:
      return uri.id;
  }
}

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Internal("cannot write " + path.string());
  return Status();
}

Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return Internal("cannot create " + to.string() + ": " + ec.message());
  for (const auto& entry : fs::recursive_directory_iterator(from, ec)) {
    fs::path rel = fs::relative(entry.path(), from, ec);
    if (rel.filename() == ".plinth-complete") continue;
    if (entry.is_directory()) {
      fs::create_directories(to / rel, ec);
    } else {
      fs::copy_file(entry.path(), to / rel, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return Internal("cannot copy " + entry.path().string() + ": " + ec.message());
  }
  if (ec) return Internal("cannot read " + from.string() + ": " + ec.message());
  return Status();
}

int Fail(const Status& s, const char* what, std::ostream& err) {
  err << "plinth deploy " << what << ": " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

Result<fs::path> PrepareOutput(const DeployOptions& o) {
  if (o.output_dir.empty()) return InvalidArgument("-o/--output DIR is required");
  if (o.port < 1 || o.port > 65535) return InvalidArgument("--port must be 1..65535");
  std::error_code ec;
  fs::path dir = fs::absolute(o.output_dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument("cannot create " + dir.string() + ": " + ec.message());
  return dir;
}

// Whether pods should follow the alias live instead of serving the image's baked model.
bool FollowsAlias(const serving::ModelUri& uri, const DeployOptions& o) {
  return uri.kind == serving::ModelUri::Kind::kRegisteredAlias && !o.tracking_uri.empty();
}

}  // namespace

const char* const* DeployRuntimePackages() { return kRuntimePackages; }

int RunDeployDocker(const DeployOptions& o, std::ostream& out, std::ostream& err) {
  auto dir = PrepareOutput(o);
  if (!dir.ok()) return Fail(dir.status(), "docker", err);
  auto uri = serving::ParseModelUri(o.model_uri);
  if (!uri.ok()) return Fail(uri.status(), "docker", err);
  // The model is baked into the image: fetched as `plinth serve` would, then copied.
  serving::ModelSource source(o.tracking_uri, *dir / ".plinth-download");
  auto fetched = source.Fetch(*uri);
  if (!fetched.ok()) return Fail(fetched.status(), "docker", err);
  std::error_code ec;
  fs::remove_all(*dir / "model", ec);
  if (Status s = CopyTree(fetched->directory, *dir / "model"); !s.ok()) {
    return Fail(s, "docker", err);
  }
  fs::remove_all(*dir / ".plinth-download", ec);
  if (!fs::exists(*dir / "model" / "MLmodel", ec)) {
    return Fail(NotFound("the model at " + o.model_uri + " has no MLmodel file"), "docker", err);
  }
  fs::path binary = o.binary.empty() ? fs::read_symlink("/proc/self/exe", ec) : fs::path(o.binary);
  if (ec || !fs::exists(binary)) {
    return Fail(InvalidArgument("cannot find the plinth binary to copy; pass --binary"), "docker",
                err);
  }
  fs::copy_file(binary, *dir / "plinth", fs::copy_options::overwrite_existing, ec);
  if (ec)
    return Fail(Internal("cannot copy " + binary.string() + ": " + ec.message()), "docker", err);
  fs::permissions(*dir / "plinth",
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);

  std::string name = o.name.empty() ? DefaultName(*uri) : o.name;
  std::string port = std::to_string(o.port);
  std::ostringstream d;
  d << "# Generated by `plinth deploy docker " << o.model_uri << "`.\n"
    << "# Build: docker build -t plinth-model-" << DnsLabel(name) << " .\n"
    << "# Run:   docker run -p " << port << ":" << port << " plinth-model-" << DnsLabel(name)
    << "\n"
    << "# The plinth binary is built on Debian bookworm and links its shared libraries.\n"
    << "FROM debian:bookworm-slim\n"
    << "RUN apt-get update \\\n"
    << " && apt-get install -y --no-install-recommends ca-certificates curl";
  for (const char* const* p = kRuntimePackages; *p != nullptr; ++p) d << " " << *p;
  d << " \\\n"
    << " && rm -rf /var/lib/apt/lists/*\n"
    << "RUN useradd --system --uid " << kUid << " --no-create-home --shell /usr/sbin/nologin "
    << "plinth\n"
    << "COPY --chown=root:root plinth /usr/local/bin/plinth\n"
    << "COPY --chown=root:root model " << kModelDirInImage << "\n"
    << "USER " << kUid << "\n"
    << "ENV TMPDIR=/tmp\n"
    << "EXPOSE " << port << "\n"
    << "HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \\\n"
    << "  CMD curl -fsS http://127.0.0.1:" << port << "/v2/health/ready || exit 1\n"
    << "ENTRYPOINT [\"/usr/local/bin/plinth\", \"serve\", \"" << kModelDirInImage
    << "\", \"--host\", \"0.0.0.0\", \"--port\", \"" << port << "\", \"--name\", " << Q(name)
    << "]\n";
  if (Status s = WriteFile(*dir / "Dockerfile", d.str()); !s.ok()) return Fail(s, "docker", err);
  if (Status s = WriteFile(*dir / ".dockerignore", "*\n!plinth\n!model\n"); !s.ok()) {
    return Fail(s, "docker", err);
  }
  out << "wrote " << (*dir / "Dockerfile").string() << ", " << (*dir / "plinth").string() << " and "
      << (*dir / "model").string() << " (" << fetched->name << " version " << fetched->version
      << ")\n"
      << "build with: docker build -t plinth-model-" << DnsLabel(name) << " " << dir->string()
      << "\n";
  return 0;
}

int RunDeployK8s(const DeployOptions& o, std::ostream& out, std::ostream& err) {
  auto dir = PrepareOutput(o);
  if (!dir.ok()) return Fail(dir.status(), "k8s", err);
  auto uri = serving::ParseModelUri(o.model_uri);
  if (!uri.ok()) return Fail(uri.status(), "k8s", err);
  if (o.min_replicas < 1 || o.max_replicas < o.min_replicas || o.replicas < 1) {
    return Fail(InvalidArgument("replicas must satisfy 1 <= --min-replicas <= --max-replicas"),
                "k8s", err);
  }
  if (o.target_cpu_percent < 1 || o.target_cpu_percent > 100) {
    return Fail(InvalidArgument("--target-cpu must be 1..100"), "k8s", err);
  }
  std::string name = o.name.empty() ? DefaultName(*uri) : o.name;
  std::string app = "plinth-" + DnsLabel(name);
  std::string image = o.image.empty() ? "plinth-model-" + DnsLabel(name) + ":latest" : o.image;
  std::string port = std::to_string(o.port);
  bool follow = FollowsAlias(*uri, o);
  std::string ns = o.namespace_.empty() ? "" : "  namespace: " + Q(DnsLabel(o.namespace_)) + "\n";
  std::string labels =
      "    app.kubernetes.io/name: plinth-model\n"
      "    app.kubernetes.io/instance: " +
      Q(app) + "\n    app.kubernetes.io/managed-by: plinth\n";

  std::ostringstream cm;
  cm << "# Generated by `plinth deploy k8s " << o.model_uri << "`: the serve settings.\n"
     << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " << Q(app + "-config") << "\n"
     << ns << "  labels:\n"
     << labels << "data:\n"
     << "  PLINTH_MODEL_URI: " << Q(follow ? o.model_uri : kModelDirInImage) << "\n"
     << "  PLINTH_MODEL_NAME: " << Q(name) << "\n"
     << "  MLFLOW_TRACKING_URI: " << Q(o.tracking_uri) << "\n"
     << "  PLINTH_WORKERS: " << Q(std::to_string(o.workers)) << "\n"
     << "  PLINTH_MAX_BATCH: " << Q(std::to_string(o.max_batch)) << "\n"
     << "  PLINTH_LOG_LEVEL: \"info\"\n";

  std::ostringstream dep;
  dep << "# Generated by `plinth deploy k8s " << o.model_uri << "`.\n"
      << "# Pods serve "
      << (follow ? "the alias " + o.model_uri + " live (hot swap when it moves)"
                 : std::string("the model baked into the image"))
      << "; probes use the Open Inference Protocol health endpoints.\n"
      << "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " << Q(app) << "\n"
      << ns << "  labels:\n"
      << labels << "spec:\n"
      << "  replicas: " << o.replicas << "\n"
      << "  selector:\n    matchLabels:\n      app.kubernetes.io/instance: " << Q(app) << "\n"
      << "  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 0\n"
      << "      maxSurge: 1\n"
      << "  template:\n    metadata:\n      labels:\n"
      << "        app.kubernetes.io/name: plinth-model\n"
      << "        app.kubernetes.io/instance: " << Q(app) << "\n"
      << "      annotations:\n"
      << "        prometheus.io/scrape: \"true\"\n"
      << "        prometheus.io/port: " << Q(port) << "\n"
      << "        prometheus.io/path: \"/metrics\"\n"
      << "    spec:\n"
      << "      securityContext:\n        runAsNonRoot: true\n        runAsUser: " << kUid
      << "\n        runAsGroup: " << kUid << "\n"
      << "      terminationGracePeriodSeconds: 40\n"
      << "      containers:\n"
      << "        - name: plinth-serve\n"
      << "          image: " << Q(image) << "\n"
      << "          imagePullPolicy: IfNotPresent\n"
      << "          command: [\"/usr/local/bin/plinth\"]\n"
      << "          args:\n"
      << "            - \"serve\"\n"
      << "            - \"$(PLINTH_MODEL_URI)\"\n"
      << "            - \"--host=0.0.0.0\"\n"
      << "            - \"--port=" << port << "\"\n"
      << "            - \"--name=$(PLINTH_MODEL_NAME)\"\n"
      << "            - \"--workers=$(PLINTH_WORKERS)\"\n"
      << "            - \"--max-batch=$(PLINTH_MAX_BATCH)\"\n"
      << "            - \"--log-level=$(PLINTH_LOG_LEVEL)\"\n"
      << "            - \"--model-cache=/tmp/plinth-models\"\n"
      << "          envFrom:\n            - configMapRef:\n                name: "
      << Q(app + "-config") << "\n"
      << "          ports:\n            - name: http\n              containerPort: " << port
      << "\n              protocol: TCP\n"
      << "          readinessProbe:\n            httpGet:\n              path: /v2/health/ready\n"
      << "              port: http\n            periodSeconds: 5\n            timeoutSeconds: 2\n"
      << "            failureThreshold: 2\n"
      << "          livenessProbe:\n            httpGet:\n              path: /v2/health/live\n"
      << "              port: http\n            initialDelaySeconds: 5\n"
      << "            periodSeconds: 10\n            timeoutSeconds: 2\n"
      << "            failureThreshold: 3\n"
      << "          resources:\n            requests:\n              cpu: " << Q(o.cpu_request)
      << "\n              memory: " << Q(o.memory_request) << "\n            limits:\n"
      << "              cpu: " << Q(o.cpu_limit) << "\n              memory: " << Q(o.memory_limit)
      << "\n"
      << "          securityContext:\n            allowPrivilegeEscalation: false\n"
      << "            readOnlyRootFilesystem: true\n"
      << "            capabilities:\n              drop: [\"ALL\"]\n"
      << "          volumeMounts:\n            - name: tmp\n              mountPath: /tmp\n"
      << "      volumes:\n        - name: tmp\n          emptyDir: {}\n";

  std::ostringstream svc;
  svc << "# Generated by `plinth deploy k8s " << o.model_uri << "`.\n"
      << "apiVersion: v1\nkind: Service\nmetadata:\n  name: " << Q(app) << "\n"
      << ns << "  labels:\n"
      << labels << "spec:\n  type: ClusterIP\n"
      << "  selector:\n    app.kubernetes.io/instance: " << Q(app) << "\n"
      << "  ports:\n    - name: http\n      port: 80\n      targetPort: http\n"
      << "      protocol: TCP\n";

  std::ostringstream hpa;
  hpa << "# Generated by `plinth deploy k8s " << o.model_uri << "`.\n"
      << "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: " << Q(app)
      << "\n"
      << ns << "  labels:\n"
      << labels << "spec:\n"
      << "  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: " << Q(app)
      << "\n  minReplicas: " << o.min_replicas << "\n  maxReplicas: " << o.max_replicas << "\n"
      << "  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n"
      << "        target:\n          type: Utilization\n          averageUtilization: "
      << o.target_cpu_percent << "\n";

  const std::pair<const char*, std::string> files[] = {{"configmap.yaml", cm.str()},
                                                       {"deployment.yaml", dep.str()},
                                                       {"service.yaml", svc.str()},
                                                       {"hpa.yaml", hpa.str()}};
  for (const auto& [file, text] : files) {
    if (Status s = WriteFile(*dir / file, text); !s.ok()) return Fail(s, "k8s", err);
    out << "wrote " << (*dir / file).string() << "\n";
  }
  out << "apply with: kubectl apply -f " << dir->string() << "\n";
  if (!follow) {
    out << "the pods run image " << image << ": build it with `plinth deploy docker " << o.model_uri
        << " -o DIR` and `docker build -t " << image << " DIR`\n";
  }
  return 0;
}

DeployCli::DeployCli(CLI::App& app) {
  deploy_ = app.add_subcommand("deploy", "Write deployment files for `plinth serve`.");
  deploy_->require_subcommand(1);
  DeployOptions& o = options_;
  docker_ = deploy_->add_subcommand(
      "docker", "Write a Docker build context: Dockerfile, the plinth binary and the model.");
  k8s_ = deploy_->add_subcommand(
      "k8s",
      "Write Kubernetes manifests: Deployment, Service, HorizontalPodAutoscaler, ConfigMap.");
  for (CLI::App* sub : {docker_, k8s_}) {
    sub->add_option("model_uri", o.model_uri,
                    "The model: a folder, models:/NAME@ALIAS, models:/NAME/VERSION, runs:/…")
        ->required();
    sub->add_option("-o,--output", o.output_dir, "Folder to write into")->required();
    sub->add_option("--tracking-uri", o.tracking_uri,
                    "Tracking server for models:/ and runs:/ URIs (default: MLFLOW_TRACKING_URI)");
    sub->add_option("--name", o.name, "Model / resource name (default: from the URI)");
    sub->add_option("--port", o.port, "Port the server listens on")->capture_default_str();
  }
  docker_->add_option("--binary", o.binary, "The plinth binary to copy (default: this one)");
  k8s_->add_option("--image", o.image, "Container image (default: plinth-model-NAME:latest)");
  k8s_->add_option("--namespace", o.namespace_, "Kubernetes namespace");
  k8s_->add_option("--replicas", o.replicas, "Initial replicas")->capture_default_str();
  k8s_->add_option("--min-replicas", o.min_replicas, "HPA minimum")->capture_default_str();
  k8s_->add_option("--max-replicas", o.max_replicas, "HPA maximum")->capture_default_str();
  k8s_->add_option("--target-cpu", o.target_cpu_percent, "HPA target CPU utilization (%)")
      ->capture_default_str();
  k8s_->add_option("--cpu-request", o.cpu_request)->capture_default_str();
  k8s_->add_option("--memory-request", o.memory_request)->capture_default_str();
  k8s_->add_option("--cpu-limit", o.cpu_limit)->capture_default_str();
  k8s_->add_option("--memory-limit", o.memory_limit)->capture_default_str();
  k8s_->add_option("--workers", o.workers, "plinth serve --workers")->capture_default_str();
  k8s_->add_option("--max-batch", o.max_batch, "plinth serve --max-batch")->capture_default_str();
}

bool DeployCli::parsed() const { return deploy_->parsed(); }

int DeployCli::Run() {
  if (docker_->parsed()) return RunDeployDocker(options_, std::cout, std::cerr);
  if (k8s_->parsed()) return RunDeployK8s(options_, std::cout, std::cerr);
  return 2;
}

}  // namespace plinth
