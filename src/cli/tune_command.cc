#include "cli/tune_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "core/json.h"
#include "http/http_client.h"

extern char** environ;

namespace plinth {
namespace {

constexpr const char* kStudies = "/api/plinth/v1/studies";
using Clock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM: workers stop their commands, tell them FAIL and leave.
std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// ------------------------------------------------------------------ the server

class StudyClient {
 public:
  static Result<StudyClient> Make(const std::string& tracking_uri) {
    std::string url = tracking_uri;
    if (url.empty()) url = Env("MLFLOW_TRACKING_URI");
    if (url.empty()) url = "http://127.0.0.1:5000";
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return InvalidArgument("the tracking URI must be a server's http:// or https:// URL, not '" +
                             url + "'");
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    StudyClient c;
    c.base_ = url;
    if (std::string token = Env("MLFLOW_TRACKING_TOKEN"); !token.empty()) {
      c.headers_ = {{"Authorization", "Bearer " + token}};
    } else if (std::string user = Env("MLFLOW_TRACKING_USERNAME"); !user.empty()) {
      c.headers_ = {
          {"Authorization", "Basic " + Base64Encode(user + ":" + Env("MLFLOW_TRACKING_PASSWORD"))}};
    }
    return c;
  }

  const std::string& base() const { return base_; }

  // Calls `path` (below the server's root) and parses the JSON answer. A non-200 answer is a
  // Status with the server's message: kUnavailable for 5xx and no answer (worth retrying),
  // kFailedPrecondition otherwise.
  Result<JsonDocument> Call(const std::string& method, const std::string& path,
                            const std::string& body = "") const {
    http::ClientRequest request;
    request.method = method;
    request.url = base_ + path;
    request.body = body;
    request.headers = headers_;
    request.timeout_seconds = 30;
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
      message = "this server has no study routes (is it plinth?): " + message;
    }
    return Status(
        response.status >= 500 ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
        "the server answered " + std::to_string(response.status) + ": " + message);
  }

  // As Call, retried for up to ~30 s while the server is unreachable or answers 5xx (a server
  // restarting, a replica being replaced).
  Result<JsonDocument> CallRetried(const std::string& method, const std::string& path,
                                   const std::string& body = "") const {
    Result<JsonDocument> r = Call(method, path, body);
    for (int attempt = 1;
         attempt < 30 && !r.ok() && r.status().code() == StatusCode::kUnavailable && !g_stop;
         ++attempt) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      r = Call(method, path, body);
    }
    return r;
  }

 private:
  std::string base_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// ------------------------------------------------------------------ YAML

// A YAML scalar as JSON: quoted scalars stay strings; plain ones become null, booleans,
// integers or numbers when they read as such (YAML 1.2's core schema).
void WriteScalar(JsonWriter& w, const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") {
    w.String(s);
    return;
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    w.Null();
  } else if (s == "true" || s == "True" || s == "TRUE") {
    w.Bool(true);
  } else if (s == "false" || s == "False" || s == "FALSE") {
    w.Bool(false);
  } else {
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (end == s.c_str() + s.size() && errno == 0) {
      w.Int64(i);
      return;
    }
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(d)) {
      w.Double(d);
      return;
    }
    w.String(s);
  }
}

void WriteYaml(JsonWriter& w, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      w.StartObject();
      for (const auto& kv : node) {
        w.Key(kv.first.as<std::string>());
        WriteYaml(w, kv.second);
      }
      w.EndObject();
      break;
    case YAML::NodeType::Sequence:
      w.StartArray();
      for (const auto& item : node) WriteYaml(w, item);
      w.EndArray();
      break;
    case YAML::NodeType::Scalar:
      WriteScalar(w, node);
      break;
    default:
      w.Null();
  }
}

// The runner's view of the YAML: the create request for the server and the runner's own
// settings.
struct TuneConfig {
  std::string study;
  std::string create_body;  // JSON for POST /studies/create
  std::optional<int64_t> n_trials;
  int parallelism = 1;
  double timeout_seconds = 0;
};

// Keys of the YAML that are the runner's, not the study's.
bool RunnerKey(std::string_view key) {
  return key == "parallelism" || key == "timeout" || key == "study" || key == "name" ||
         key == "space" || key == "metric" || key == "n_trials";
}

Result<TuneConfig> LoadConfig(const TuneCommandOptions& options) {
  TuneConfig c;
  YAML::Node root;
  if (!options.config_path.empty()) {
    try {
      root = YAML::LoadFile(options.config_path);
    } catch (const YAML::Exception& e) {
      return InvalidArgument(options.config_path + ": " + e.what());
    }
    if (!root.IsMap()) return InvalidArgument(options.config_path + ": expected a YAML mapping");
  }
  JsonDocument doc;
  {
    JsonWriter w;
    try {
      WriteYaml(w, root.IsMap() ? root : YAML::Node(YAML::NodeType::Map));
    } catch (const YAML::Exception& e) {
      return InvalidArgument(options.config_path + ": " + e.what());
    }
    PLINTH_RETURN_IF_ERROR(ParseJson(w.View(), &doc));
  }
  auto text = [&](const char* key) -> std::string {
    const JsonValue* v = JsonFind(doc, key);
    return v != nullptr && v->IsString() ? v->GetString() : "";
  };
  c.study = !options.study.empty()   ? options.study
            : !text("study").empty() ? text("study")
                                     : text("name");
  if (c.study.empty()) return InvalidArgument("name the study: 'study:' in the YAML or --study");
  if (const JsonValue* p = JsonFind(doc, "parallelism")) {
    if (!p->IsInt() || p->GetInt() < 1) return InvalidArgument("'parallelism' must be >= 1");
    c.parallelism = p->GetInt();
  }
  if (const JsonValue* t = JsonFind(doc, "timeout")) {
    if (!t->IsNumber() || t->GetDouble() <= 0) return InvalidArgument("'timeout' must be > 0 s");
    c.timeout_seconds = t->GetDouble();
  }
  if (const JsonValue* n = JsonFind(doc, "n_trials")) {
    if (!n->IsInt64() || n->GetInt64() < 1) return InvalidArgument("'n_trials' must be >= 1");
    c.n_trials = n->GetInt64();
  }
  if (options.parallelism > 0) c.parallelism = options.parallelism;
  if (options.timeout_seconds > 0) c.timeout_seconds = options.timeout_seconds;
  if (options.n_trials > 0) c.n_trials = options.n_trials;

  // The create request: the YAML's study keys, renamed where the YAML is shorter.
  JsonWriter body;
  body.StartObject();
  body.KeyString("name", c.study);
  if (const JsonValue* space = JsonFind(doc, "space")) {
    body.Key("search_space");
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> wr(b);
    space->Accept(wr);
    body.Raw(b.GetString());
  }
  if (!text("metric").empty()) body.KeyString("metric_name", text("metric"));
  if (c.n_trials) body.KeyInt64("n_trials", *c.n_trials);
  for (const auto& m : doc.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (RunnerKey(key)) continue;
    body.Key(key);
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> wr(b);
    m.value.Accept(wr);
    body.Raw(b.GetString());
  }
  body.KeyBool("load_if_exists", true);
  body.EndObject();
  c.create_body = body.Take();
  return c;
}

// ------------------------------------------------------------------ one trial

std::string JsonText(const JsonValue& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  std::string s = b.GetString();
  // Python's spelling, which commands parsing their args expect.
  if (s == "true") return "True";
  if (s == "false") return "False";
  if (s == "null") return "None";
  return s;
}

std::string EnvName(const std::string& param) {
  std::string out = "PLINTH_PARAM_";
  for (char ch : param) {
    out += std::isalnum(static_cast<unsigned char>(ch))
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
               : '_';
  }
  return out;
}

struct StudyInfo {
  int64_t study_id = 0;
  std::string name;
  std::string experiment_id;
  std::vector<std::string> metric_names;
  double heartbeat_grace_seconds = 60;
};

struct TrialOutcome {
  std::string state;  // COMPLETE, PRUNED, FAIL
  std::vector<double> values;
  std::string why;  // for FAIL
};

// What a trial's command printed that the runner reads.
struct MetricLine {
  std::vector<std::pair<std::string, double>> values;  // name=value pairs
  std::optional<int64_t> step;
};

std::optional<MetricLine> ParseLine(const std::string& line, std::string_view keyword) {
  std::istringstream in(line);
  std::string word;
  if (!(in >> word) || word != keyword) return std::nullopt;
  MetricLine out;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string key = word.substr(0, eq);
    std::string value = word.substr(eq + 1);
    char* end = nullptr;
    if (key == "step") {
      long long s = std::strtoll(value.c_str(), &end, 10);
      if (*end == '\0' && s >= 0) out.step = s;
      continue;
    }
    if (key == "values") {  // plinth-objective values=0.1,0.2
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) {
        double d = std::strtod(item.c_str(), &end);
        if (*end == '\0') out.values.emplace_back("value", d);
      }
      continue;
    }
    double d = std::strtod(value.c_str(), &end);
    if (!value.empty() && *end == '\0') out.values.emplace_back(key, d);
  }
  return out;
}

class Runner {
 public:
  Runner(const StudyClient& client, StudyInfo study, std::vector<std::string> command,
         std::ostream& out, std::ostream& err)
      : client_(client),
        study_(std::move(study)),
        command_(std::move(command)),
        out_(out),
        err_(err) {}

  // Asks and runs trials until the study is done, the deadline passes or a stop signal.
  void Work(std::optional<Clock::time_point> deadline) {
    const std::string ask = "{\"study_id\":" + std::to_string(study_.study_id) + "}";
    while (!g_stop && !(deadline && Clock::now() >= *deadline)) {
      auto asked = client_.CallRetried("POST", std::string(kStudies) + "/ask", ask);
      if (!asked.ok()) {
        Print(err_, "plinth tune: ask failed: " + asked.status().message());
        failed_ = true;
        return;
      }
      const JsonValue* trial = JsonFind(*asked, "trial");
      if (trial == nullptr || !trial->IsObject()) {
        const JsonValue* done = JsonFind(*asked, "study_done");
        if (done != nullptr && done->IsBool() && done->GetBool()) return;
        // The budget is held by running trials (ours or other workers'); one may fail.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      RunTrial(*trial);
    }
  }

  bool failed() const { return failed_; }

 private:
  void Print(std::ostream& os, const std::string& line) {
    std::lock_guard<std::mutex> lock(print_mu_);
    os << line << "\n";
    os.flush();
  }

  void RunTrial(const JsonValue& trial) {
    const int64_t trial_id = JsonGetInt64(trial, "trial_id").value().value_or(0);
    const int64_t number = JsonGetInt64(trial, "number").value().value_or(0);
    const std::string run_id = JsonGetString(trial, "run_id").value().value_or("");
    const std::string tag = "[trial " + std::to_string(number) + "] ";
    std::vector<std::string> argv = command_;
    std::map<std::string, std::string> env;
    std::string summary;
    if (const JsonValue* params = JsonFind(trial, "params"); params && params->IsObject()) {
      for (const auto& p : params->GetObject()) {
        std::string name(p.name.GetString(), p.name.GetStringLength());
        std::string value = JsonText(p.value);
        argv.push_back("--" + name + "=" + value);
        env[EnvName(name)] = value;
        summary += (summary.empty() ? "" : " ") + name + "=" + value;
      }
    }
    env["PLINTH_TRIAL_NUMBER"] = std::to_string(number);
    env["PLINTH_TRIAL_ID"] = std::to_string(trial_id);
    env["PLINTH_STUDY"] = study_.name;
    env["MLFLOW_RUN_ID"] = run_id;
    env["MLFLOW_TRACKING_URI"] = client_.base();
    env["MLFLOW_EXPERIMENT_ID"] = study_.experiment_id;
    const auto started = Clock::now();
    TrialOutcome outcome = Execute(trial_id, run_id, tag, argv, env);
    JsonWriter w;
    w.StartObject();
    w.KeyInt64("trial_id", trial_id);
    if (outcome.state == "COMPLETE") {
      w.Key("values");
      w.StartArray();
      for (double v : outcome.values) w.Double(v);
      w.EndArray();
    } else {
      w.KeyString("state", outcome.state);
    }
    w.EndObject();
    auto told = client_.CallRetried("POST", std::string(kStudies) + "/tell", w.Take());
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::ostringstream line;
    line << "trial " << number << " " << outcome.state;
    for (double v : outcome.values) line << " " << v;
    line << " (" << summary << ") in " << std::fixed;
    line.precision(1);
    line << seconds << " s";
    if (!outcome.why.empty()) line << ": " << outcome.why;
    if (!told.ok()) line << " — not recorded: " << told.status().message();
    Print(told.ok() ? out_ : err_, line.str());
  }

  // Runs the command for one trial and decides its outcome.
  TrialOutcome Execute(int64_t trial_id, const std::string& run_id, const std::string& tag,
                       const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& overrides) {
    // Everything exec needs is built before fork: the child only calls async-signal-safe code.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      std::string key = entry.substr(0, entry.find('='));
      if (overrides.count(key) == 0) env_strings.push_back(std::move(entry));
    }
    for (const auto& [k, v] : overrides) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    for (std::string& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return {"FAIL", {}, "pipe: " + std::string(strerror(errno))};
    pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      return {"FAIL", {}, "fork: " + std::string(strerror(errno))};
    }
    if (pid == 0) {
      setpgid(0, 0);  // its own group: a prune or a stop kills its children too
#ifdef __linux__
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // a worker killed with -9 takes its trial with it
#endif
      dup2(fds[1], STDOUT_FILENO);
      environ = envp.data();
      execvp(cargv[0], cargv.data());
      const char msg[] = "plinth tune: cannot run the command\n";
      (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
      _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    // Non-blocking: a grandchild that keeps stdout open must not hang the runner after the
    // command itself exited.
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);

    const double interval = std::clamp(study_.heartbeat_grace_seconds / 4.0, 0.1, 10.0);
    auto next_beat = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(interval));
    const std::string beat = "{\"trial_id\":" + std::to_string(trial_id) + "}";
    std::map<std::string, double> last;
    std::optional<std::vector<double>> objective;
    int64_t auto_step = 0;
    bool pruned = false;
    bool stopped = false;
    std::string buffer;
    bool open = true;
    // SIGTERM first; SIGKILL if the group is still there 2 s later.
    std::optional<Clock::time_point> kill_at;
    auto kill_group = [&] {
      kill(-pid, SIGTERM);
      kill_at = Clock::now() + std::chrono::seconds(2);
    };
    auto handle_line = [&](const std::string& line) {
      Print(out_, tag + line);
      if (auto m = ParseLine(line, "plinth-objective")) {
        std::vector<double> values;
        for (const auto& [k, v] : m->values) values.push_back(v);
        if (!values.empty()) objective = values;
        return;
      }
      auto m = ParseLine(line, "plinth-metric");
      if (!m) return;
      for (const auto& [name, value] : m->values) {
        last[name] = value;
        const int64_t step = m->step.value_or(auto_step);
        if (name == study_.metric_names[0]) {
          ++auto_step;
          JsonWriter w;
          w.StartObject();
          w.KeyInt64("trial_id", trial_id);
          w.KeyInt64("step", step);
          w.KeyDouble("value", value);
          w.EndObject();
          auto r = client_.CallRetried("POST", std::string(kStudies) + "/report", w.Take());
          if (r.ok()) {
            const JsonValue* p = JsonFind(*r, "should_prune");
            if (p != nullptr && p->IsBool() && p->GetBool()) pruned = true;
          }
          next_beat = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(interval));
        } else if (!run_id.empty()) {
          // Other metrics go to the trial's run, as mlflow.log_metric would put them.
          JsonWriter w;
          w.StartObject();
          w.KeyString("run_id", run_id);
          w.KeyString("key", name);
          w.KeyDouble("value", value);
          w.KeyInt64("timestamp", std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
          w.KeyInt64("step", step);
          w.EndObject();
          (void)client_.Call("POST", "/api/2.0/mlflow/runs/log-metric", w.Take());
        }
      }
    };
    int status = 0;
    bool exited = false;
    while (!exited) {
      if (open) {
        pollfd p{fds[0], POLLIN, 0};
        int ready = poll(&p, 1, 100);
        if (ready > 0) {
          char chunk[4096];
          ssize_t n = read(fds[0], chunk, sizeof(chunk));
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            open = false;
          } else if (n > 0) {
            buffer.append(chunk, static_cast<size_t>(n));
            size_t nl;
            while ((nl = buffer.find('\n')) != std::string::npos) {
              handle_line(buffer.substr(0, nl));
              buffer.erase(0, nl + 1);
            }
          }
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if ((pruned || g_stop) && !stopped) {
        stopped = true;
        kill_group();
      }
      if (kill_at && Clock::now() >= *kill_at) {
        kill(-pid, SIGKILL);
        kill_at.reset();
      }
      if (Clock::now() >= next_beat) {
        (void)client_.Call("POST", std::string(kStudies) + "/heartbeat", beat);
        next_beat = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(interval));
      }
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid || (w < 0 && errno != EINTR)) exited = true;
    }
    // Whatever the command printed last.
    for (char chunk[4096];;) {
      ssize_t n = read(fds[0], chunk, sizeof(chunk));
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    close(fds[0]);
    std::istringstream rest(buffer);
    for (std::string line; std::getline(rest, line);) handle_line(line);

    if (pruned) return {"PRUNED", {}, ""};
    if (g_stop) return {"FAIL", {}, "stopped by a signal"};
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return {"FAIL",
              {},
              WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                : "killed by signal " + std::to_string(WTERMSIG(status))};
    }
    if (objective) return {"COMPLETE", *objective, ""};
    std::vector<double> values;
    for (const std::string& name : study_.metric_names) {
      auto it = last.find(name);
      if (it == last.end()) {
        return {"FAIL",
                {},
                "the command printed no 'plinth-objective value=…' nor 'plinth-metric " + name +
                    "=…' line"};
      }
      values.push_back(it->second);
    }
    return {"COMPLETE", values, ""};
  }

  const StudyClient& client_;
  StudyInfo study_;
  std::vector<std::string> command_;
  std::ostream& out_;
  std::ostream& err_;
  std::mutex print_mu_;
  std::atomic<bool> failed_{false};
};

Result<StudyInfo> ReadStudy(const JsonDocument& doc) {
  const JsonValue* s = JsonFind(doc, "study");
  if (s == nullptr || !s->IsObject()) return Internal("the server's answer has no study");
  StudyInfo info;
  PLINTH_ASSIGN_OR_RETURN(auto id, JsonGetInt64(*s, "study_id"));
  info.study_id = id.value_or(0);
  PLINTH_ASSIGN_OR_RETURN(auto name, JsonGetString(*s, "name"));
  info.name = name.value_or("");
  PLINTH_ASSIGN_OR_RETURN(auto experiment, JsonGetString(*s, "experiment_id"));
  info.experiment_id = experiment.value_or("");
  PLINTH_ASSIGN_OR_RETURN(auto grace, JsonGetDouble(*s, "heartbeat_grace_seconds"));
  info.heartbeat_grace_seconds = grace.value_or(60);
  if (const JsonValue* names = JsonFind(*s, "metric_names"); names && names->IsArray()) {
    for (const JsonValue& n : names->GetArray()) {
      if (n.IsString()) info.metric_names.emplace_back(n.GetString());
    }
  }
  if (info.metric_names.empty()) info.metric_names = {"value"};
  return info;
}

// The member at a dotted path of objects ("study.trial_counts"), or nullptr.
const JsonValue* At(const JsonValue& root, std::string_view path) {
  const JsonValue* v = &root;
  while (!path.empty() && v != nullptr) {
    size_t dot = path.find('.');
    std::string part(path.substr(0, dot));
    path = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    v = v->IsObject() ? JsonFind(*v, part) : nullptr;
  }
  return v;
}

void PrintBest(const StudyClient& client, const StudyInfo& study, std::ostream& out) {
  auto best = client.Call(
      "GET", std::string(kStudies) + "/best?study_id=" + std::to_string(study.study_id));
  auto got =
      client.Call("GET", std::string(kStudies) + "/get?study_id=" + std::to_string(study.study_id));
  if (got.ok()) {
    out << "study '" << study.name << "':";
    if (const JsonValue* c = At(*got, "study.trial_counts"); c && c->IsObject()) {
      for (const auto& m : c->GetObject()) {
        if (m.value.IsInt64() && m.value.GetInt64() > 0) {
          out << " " << m.value.GetInt64() << " " << m.name.GetString();
        }
      }
    }
    out << "\n";
  }
  const JsonValue* trials = best.ok() ? JsonFind(*best, "best_trials") : nullptr;
  if (trials == nullptr || !trials->IsArray() || trials->Empty()) {
    out << "no trial completed\n";
    return;
  }
  for (const JsonValue& t : trials->GetArray()) {
    out << (trials->Size() > 1 ? "Pareto-optimal trial " : "best trial ")
        << JsonGetInt64(t, "number").value().value_or(-1) << ":";
    if (const JsonValue* values = JsonFind(t, "values"); values && values->IsArray()) {
      for (const JsonValue& v : values->GetArray()) out << " " << JsonText(v);
    }
    if (const JsonValue* params = JsonFind(t, "params"); params && params->IsObject()) {
      for (const auto& p : params->GetObject()) {
        out << " " << p.name.GetString() << "=" << JsonText(p.value);
      }
    }
    out << " (run " << JsonGetString(t, "run_id").value().value_or("") << ")\n";
  }
}

}  // namespace

int RunTune(const TuneCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (options.command.empty()) {
    err << "plinth tune: give the command to run after --, e.g. plinth tune --config s.yaml -- "
           "python train.py\n";
    return 2;
  }
  if (!options.worker && options.config_path.empty()) {
    err << "plinth tune: --config study.yaml is required (or --worker --study NAME to join)\n";
    return 2;
  }
  auto config = LoadConfig(options);
  if (!config.ok()) {
    err << "plinth tune: " << config.status().message() << "\n";
    return 2;
  }
  auto client = StudyClient::Make(options.tracking_uri);
  if (!client.ok()) {
    err << "plinth tune: " << client.status().message() << "\n";
    return 2;
  }
  http::ClientRequest health;
  health.url = client->base() + "/health";
  health.timeout_seconds = 5;
  if (auto h = http::SendHttpRequest(health); !h.ok()) {
    err << "plinth tune: no tracking server answers at " << client->base()
        << " (start one with `plinth server`, or pass --tracking-uri / set "
           "MLFLOW_TRACKING_URI): "
        << h.status().message() << "\n";
    return 1;
  }
  Result<JsonDocument> study_doc =
      options.worker
          ? client->CallRetried(
                "GET", std::string(kStudies) + "/get?study_name=" + http::UrlEncode(config->study))
          : client->CallRetried("POST", std::string(kStudies) + "/create", config->create_body);
  if (!study_doc.ok()) {
    err << "plinth tune: " << study_doc.status().message() << "\n";
    return 1;
  }
  auto study = ReadStudy(*study_doc);
  if (!study.ok()) {
    err << "plinth tune: " << study.status().message() << "\n";
    return 1;
  }
  out << "plinth tune: study '" << study->name << "' (id " << study->study_id << ", experiment "
      << study->experiment_id << ") on " << client->base() << ", " << config->parallelism
      << " at a time\n";
  out.flush();

  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::optional<Clock::time_point> deadline;
  if (config->timeout_seconds > 0) {
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(config->timeout_seconds));
  }
  Runner runner(*client, *study, options.command, out, err);
  std::vector<std::thread> workers;
  for (int i = 0; i < config->parallelism; ++i) {
    workers.emplace_back([&] { runner.Work(deadline); });
  }
  for (auto& t : workers) t.join();
  PrintBest(*client, *study, out);
  if (g_stop) return 1;
  return runner.failed() ? 1 : 0;
}

TuneCli::TuneCli(CLI::App& app) {
  tune_ = app.add_subcommand(
      "tune",
      "Run a hyperparameter study: each trial runs COMMAND with the trial's params as "
      "--name=value args and PLINTH_PARAM_* env vars, and is tracked as a run. The command "
      "prints 'plinth-metric NAME=VALUE step=N' lines (intermediate values, pruning) and/or "
      "'plinth-objective value=V'. Needs a running plinth server (--tracking-uri).");
  tune_->set_help_flag("--help", "Print this help message and exit");
  TuneCommandOptions& o = options_;
  tune_->add_option("--config,-c", o.config_path, "The study YAML (see docs/tuning.md)");
  tune_->add_option("--tracking-uri", o.tracking_uri,
                    "The plinth server (default: MLFLOW_TRACKING_URI, else "
                    "http://127.0.0.1:5000)");
  tune_->add_option("--study", o.study, "The study's name (overrides the YAML's)");
  tune_->add_flag("--worker", o.worker,
                  "Join an existing study (created by another `plinth tune` or the API)");
  tune_->add_option("--n-trials", o.n_trials, "Trials the study runs (overrides the YAML)")
      ->check(CLI::Range(1, 100000000));
  tune_->add_option("--parallelism,-j", o.parallelism, "Trials this runner runs at once")
      ->check(CLI::Range(1, 1024));
  tune_->add_option("--timeout", o.timeout_seconds,
                    "Seconds after which this runner starts no new trial");
  tune_->add_option("command", o.command, "The objective command and its args, after --");
}

bool TuneCli::parsed() const { return tune_->parsed(); }

int TuneCli::Run() { return RunTune(options_, std::cout, std::cerr); }

}  // namespace plinth
