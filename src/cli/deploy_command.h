// `plinth deploy docker|k8s MODEL_URI -o DIR`: writes what runs `plinth serve` in a container.
//   docker: a build context — Dockerfile (Debian bookworm slim, the runtime libraries the plinth
//           binary links, a non-root user, a HEALTHCHECK on the OIP readiness endpoint), the
//           plinth binary, and the model folder baked in (fetched like `plinth serve` does).
//   k8s:    Deployment (readiness/liveness probes on the OIP health endpoints, resource requests
//           and limits, non-root, read-only root filesystem), Service, HorizontalPodAutoscaler and
//           a ConfigMap holding the serve settings. The pods serve the image's baked model, or —
//           for models:/NAME@ALIAS with --tracking-uri — follow the alias live.
// Nothing here talks to Docker or a cluster; tests validate the manifests against the
// Kubernetes OpenAPI schema.
#ifndef PLINTH_CLI_DEPLOY_COMMAND_H_
#define PLINTH_CLI_DEPLOY_COMMAND_H_

#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace plinth {

struct DeployOptions {
  std::string model_uri;
  std::string output_dir;
  std::string tracking_uri;  // for models:/ and runs:/ (and, in k8s, for following an alias)
  std::string name;          // resource / model name; default: from the model URI
  int port = 8080;
  // docker
  std::string binary;  // the plinth binary to copy; default: this executable
  // k8s
  std::string image;  // default: plinth-model-NAME:latest
  std::string namespace_;
  int replicas = 2;
  int min_replicas = 2;
  int max_replicas = 10;
  int target_cpu_percent = 70;
  std::string cpu_request = "500m";
  std::string memory_request = "256Mi";
  std::string cpu_limit = "2";
  std::string memory_limit = "1Gi";
  int workers = 0;
  int max_batch = 1;
};

// Each returns the exit code: 0 written, 1 the model could not be fetched or files written,
// 2 bad usage. What was written is listed on `out`.
int RunDeployDocker(const DeployOptions& options, std::ostream& out, std::ostream& err);
int RunDeployK8s(const DeployOptions& options, std::ostream& out, std::ostream& err);

// The Debian packages the Dockerfile installs (the shared libraries the binary links).
const char* const* DeployRuntimePackages();

class DeployCli {
 public:
  explicit DeployCli(CLI::App& app);
  DeployCli(const DeployCli&) = delete;
  DeployCli& operator=(const DeployCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* deploy_;
  CLI::App* docker_;
  CLI::App* k8s_;
  DeployOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_DEPLOY_COMMAND_H_
