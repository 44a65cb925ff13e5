// plinth._native: the Python face of the C++ engines, in process (no server). Thin glue only:
// every decision is made by the C++ libraries in src/; here values are converted and Status
// errors become Python exceptions (kInvalidArgument → ValueError, kNotFound → KeyError, others →
// RuntimeError). The Python package (python/plinth) builds the Optuna-shaped API on top.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "tune/auto_sampler.h"
#include "tune/cmaes_sampler.h"
#include "tune/gp_sampler.h"
#include "tune/grid_sampler.h"
#include "tune/pruners.h"
#include "tune/random_sampler.h"
#include "tune/study.h"
#include "tune/tpe.h"

namespace py = pybind11;

namespace plinth::python {
namespace {

[[noreturn]] void Raise(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kBadRequest:
      throw py::value_error(s.message());
    case StatusCode::kNotFound:
      throw py::key_error(s.message());
    default:
      throw std::runtime_error(s.message());
  }
}

void Check(const Status& s) {
  if (!s.ok()) Raise(s);
}

template <typename T>
T Take(Result<T> r) {
  if (!r.ok()) Raise(r.status());
  return std::move(r).value();
}

py::object ToPython(const tune::ParamValue& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) {
          return py::none();
        } else {
          return py::cast(x);
        }
      },
      v);
}

tune::ParamValue FromPython(const py::handle& h) {
  if (h.is_none()) return std::monostate{};
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return h.cast<int64_t>();
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  throw py::type_error("categorical choices must be None, bool, int, float or str, got " +
                       py::str(py::type::of(h).attr("__name__")).cast<std::string>());
}

// A final state named by Python (None: let tell decide).
std::optional<tune::TrialState> ParseState(const std::optional<std::string>& state) {
  if (!state) return std::nullopt;
  if (*state == "COMPLETE") return tune::TrialState::kComplete;
  if (*state == "PRUNED") return tune::TrialState::kPruned;
  if (*state == "FAIL") return tune::TrialState::kFail;
  throw py::value_error("state must be COMPLETE, PRUNED or FAIL, not " + *state);
}

// One in-memory study and its sampler (tune::Study is single-threaded; Python holds the GIL
// around every call, which serialises ask/tell for n_jobs > 1).
class NativeStudy {
 public:
  NativeStudy(std::unique_ptr<tune::Sampler> sampler, const std::vector<bool>& maximize)
      : study_(std::move(sampler), Directions(maximize)) {}

  static std::vector<tune::StudyDirection> Directions(const std::vector<bool>& maximize) {
    std::vector<tune::StudyDirection> out;
    for (bool m : maximize) {
      out.push_back(m ? tune::StudyDirection::kMaximize : tune::StudyDirection::kMinimize);
    }
    return out;
  }

  int Ask() { return study_.Ask().number(); }

  double SuggestFloat(int number, const std::string& name, double low, double high, bool log,
                      std::optional<double> step) {
    return Take(TrialOf(number).SuggestFloat(name, low, high, log, step));
  }
  int64_t SuggestInt(int number, const std::string& name, int64_t low, int64_t high, int64_t step,
                     bool log) {
    return Take(TrialOf(number).SuggestInt(name, low, high, step, log));
  }
  py::object SuggestCategorical(int number, const std::string& name, const py::sequence& seq) {
    std::vector<tune::ParamValue> choices;
    for (const py::handle& c : seq) choices.push_back(FromPython(c));
    return ToPython(Take(TrialOf(number).SuggestCategorical(name, std::move(choices))));
  }
  void Report(int number, double value, int64_t step) {
    Check(TrialOf(number).Report(value, step));
  }
  // state: None (COMPLETE, or FAIL for a missing/NaN value), "PRUNED" or "FAIL".
  void Tell(int number, std::optional<double> value, std::optional<std::string> state) {
    Check(study_.Tell(number, value, ParseState(state)));
  }
  void TellValues(int number, std::vector<double> values, std::optional<std::string> state) {
    Check(study_.TellValues(number, std::move(values), ParseState(state)));
  }
  bool ShouldPrune(int number) { return Take(study_.ShouldPrune(number)); }
  void SetPruner(const std::string& kind, const py::dict& o);
  void SetName(const std::string& name) { study_.set_name(name); }
  std::vector<int> BestTrials() const { return study_.BestTrials(); }
  void Enqueue(const py::dict& params) {
    std::vector<std::pair<std::string, tune::ParamValue>> fixed;
    for (const auto& [k, v] : params) fixed.emplace_back(py::str(k), FromPython(v));
    study_.EnqueueTrial(std::move(fixed));
  }
  int Size() const { return static_cast<int>(study_.trials().size()); }

  // One trial as a dict: number, state, value, params (external values, suggestion order),
  // distributions, intermediate_values.
  py::dict TrialDict(int number) const {
    if (number < 0 || number >= Size()) throw py::index_error("no trial " + std::to_string(number));
    const tune::FrozenTrial& t = study_.trial(number);
    py::dict d;
    d["number"] = t.number;
    d["state"] = std::string(tune::TrialStateName(t.state));
    d["value"] = t.value ? py::cast(*t.value) : py::none();
    d["values"] = t.values.empty() ? py::object(py::none()) : py::cast(t.values);
    py::dict params;
    py::dict distributions;
    for (const tune::TrialParam& p : t.params) {
      const tune::Distribution& dist = study_.distribution(p.distribution_id);
      const std::string& name = study_.ParamName(p.param_id);
      params[py::str(name)] = ToPython(dist.ToExternal(p.value));
      distributions[py::str(name)] = DistributionDict(dist);
    }
    d["params"] = params;
    d["distributions"] = distributions;
    py::dict iv;
    for (const auto& [step, value] : t.intermediate_values) iv[py::int_(step)] = value;
    d["intermediate_values"] = iv;
    return d;
  }
  std::optional<int> BestTrial() const { return study_.BestTrial(); }
  int CountInState(const std::string& state) const {
    for (auto s :
         {tune::TrialState::kRunning, tune::TrialState::kComplete, tune::TrialState::kPruned,
          tune::TrialState::kFail, tune::TrialState::kWaiting}) {
      if (tune::TrialStateName(s) == state) return study_.CountInState(s);
    }
    throw py::value_error("unknown trial state " + state);
  }
  bool maximize() const { return study_.direction() == tune::StudyDirection::kMaximize; }
  bool multi_objective() const { return study_.is_multi_objective(); }

 private:
  tune::Trial TrialOf(int number) {
    if (number < 0 || number >= Size()) throw py::index_error("no trial " + std::to_string(number));
    return tune::Trial(&study_, number);
  }
  static py::dict DistributionDict(const tune::Distribution& d) {
    py::dict out;
    switch (d.kind()) {
      case tune::DistributionKind::kCategorical: {
        out["type"] = "categorical";
        py::list choices;
        for (const auto& c : d.choices()) choices.append(ToPython(c));
        out["choices"] = choices;
        break;
      }
      case tune::DistributionKind::kInt:
        out["type"] = "int";
        out["low"] = static_cast<int64_t>(d.low());
        out["high"] = static_cast<int64_t>(d.high());
        out["log"] = d.log();
        out["step"] = d.has_step() ? static_cast<int64_t>(d.step()) : int64_t{1};
        break;
      default:
        out["type"] = "float";
        out["low"] = d.low();
        out["high"] = d.high();
        out["log"] = d.log();
        out["step"] = d.has_step() ? py::cast(d.step()) : py::none();
        break;
    }
    return out;
  }

  tune::Study study_;
};

template <typename T>
void Opt(const py::dict& o, const char* key, T* into) {
  if (o.contains(key) && !o[key].is_none()) *into = o[key].cast<T>();
}
template <typename T>
void Opt(const py::dict& o, const char* key, std::optional<T>* into) {
  if (o.contains(key) && !o[key].is_none()) *into = o[key].cast<T>();
}

void NativeStudy::SetPruner(const std::string& kind, const py::dict& o) {
  if (kind == "nop") {
    study_.SetPruner(std::make_unique<tune::NopPruner>());
    return;
  }
  if (kind == "median" || kind == "percentile") {
    tune::PercentilePrunerOptions p;
    Opt(o, "percentile", &p.percentile);
    Opt(o, "n_startup_trials", &p.n_startup_trials);
    Opt(o, "n_warmup_steps", &p.n_warmup_steps);
    Opt(o, "interval_steps", &p.interval_steps);
    Opt(o, "n_min_trials", &p.n_min_trials);
    study_.SetPruner(Take(tune::PercentilePruner::Create(p)));
    return;
  }
  if (kind == "successive_halving") {
    tune::SuccessiveHalvingOptions p;
    Opt(o, "min_resource", &p.min_resource);
    Opt(o, "reduction_factor", &p.reduction_factor);
    Opt(o, "min_early_stopping_rate", &p.min_early_stopping_rate);
    Opt(o, "bootstrap_count", &p.bootstrap_count);
    study_.SetPruner(Take(tune::SuccessiveHalvingPruner::Create(p)));
    return;
  }
  if (kind == "hyperband") {
    tune::HyperbandOptions p;
    Opt(o, "min_resource", &p.min_resource);
    Opt(o, "max_resource", &p.max_resource);
    Opt(o, "reduction_factor", &p.reduction_factor);
    Opt(o, "bootstrap_count", &p.bootstrap_count);
    study_.SetPruner(Take(tune::HyperbandPruner::Create(p)));
    return;
  }
  throw py::value_error("unknown pruner " + kind);
}

std::unique_ptr<NativeStudy> MakeStudy(const std::string& sampler, const py::dict& options,
                                       const std::vector<bool>& maximize) {
  std::optional<uint32_t> seed;
  if (options.contains("seed") && !options["seed"].is_none()) {
    seed = options["seed"].cast<uint32_t>();
  }
  if (sampler == "random") {
    return std::make_unique<NativeStudy>(std::make_unique<tune::RandomSampler>(seed), maximize);
  }
  if (sampler == "grid") {
    tune::GridSampler::Grid grid;
    for (const auto& [k, v] : options["search_space"].cast<py::dict>()) {
      std::vector<tune::ParamValue> values;
      for (const py::handle& x : v.cast<py::sequence>()) values.push_back(FromPython(x));
      grid.emplace_back(py::str(k), std::move(values));
    }
    return std::make_unique<NativeStudy>(Take(tune::GridSampler::Create(std::move(grid), seed)),
                                         maximize);
  }
  if (sampler == "tpe") {
    tune::TpeOptions o;
    o.seed = seed;
    if (options.contains("n_startup_trials")) {
      o.n_startup_trials = options["n_startup_trials"].cast<int>();
    }
    if (options.contains("n_ei_candidates")) {
      o.n_ei_candidates = options["n_ei_candidates"].cast<int>();
    }
    if (options.contains("multivariate")) o.multivariate = options["multivariate"].cast<bool>();
    if (options.contains("group")) o.group = options["group"].cast<bool>();
    if (options.contains("constant_liar")) {
      o.constant_liar = options["constant_liar"].cast<bool>();
    }
    if (options.contains("prior_weight")) o.prior_weight = options["prior_weight"].cast<double>();
    if (options.contains("consider_endpoints")) {
      o.consider_endpoints = options["consider_endpoints"].cast<bool>();
    }
    if (options.contains("consider_magic_clip")) {
      o.consider_magic_clip = options["consider_magic_clip"].cast<bool>();
    }
    return std::make_unique<NativeStudy>(Take(tune::TpeSampler::Create(std::move(o))), maximize);
  }
  if (sampler == "cmaes") {
    tune::CmaEsOptions o;
    o.seed = seed;
    Opt(options, "n_startup_trials", &o.n_startup_trials);
    Opt(options, "sigma0", &o.sigma0);
    Opt(options, "popsize", &o.popsize);
    Opt(options, "consider_pruned_trials", &o.consider_pruned_trials);
    Opt(options, "warn_independent_sampling", &o.warn_independent_sampling);
    return std::make_unique<NativeStudy>(Take(tune::CmaEsSampler::Create(std::move(o))), maximize);
  }
  if (sampler == "gp") {
    tune::GpSamplerOptions o;
    o.seed = seed;
    Opt(options, "n_startup_trials", &o.n_startup_trials);
    Opt(options, "deterministic_objective", &o.deterministic_objective);
    Opt(options, "warn_independent_sampling", &o.warn_independent_sampling);
    if (options.contains("lengthscale_prior") && !options["lengthscale_prior"].is_none()) {
      o.lengthscale_prior =
          Take(tune::ParseGpLengthscalePrior(options["lengthscale_prior"].cast<std::string>()));
    }
    return std::make_unique<NativeStudy>(Take(tune::GpSampler::Create(std::move(o))), maximize);
  }
  if (sampler == "auto") {
    tune::AutoSamplerOptions o;
    o.seed = seed;
    Opt(options, "gp_trials", &o.gp_trials);
    return std::make_unique<NativeStudy>(Take(tune::AutoSampler::Create(std::move(o))), maximize);
  }
  throw py::value_error("unknown sampler " + sampler + " (random, grid, tpe, cmaes, gp, auto)");
}

}  // namespace

void RegisterDataBindings(py::module_& m);  // data_bindings.cc

}  // namespace plinth::python

PYBIND11_MODULE(_native, m) {
  using plinth::python::NativeStudy;
  m.doc() = "Plinth's C++ engines, in process";
  py::class_<NativeStudy>(m, "NativeStudy")
      .def(py::init(&plinth::python::MakeStudy), py::arg("sampler"), py::arg("options"),
           py::arg("maximize"))
      .def("ask", &NativeStudy::Ask)
      .def("suggest_float", &NativeStudy::SuggestFloat)
      .def("suggest_int", &NativeStudy::SuggestInt)
      .def("suggest_categorical", &NativeStudy::SuggestCategorical)
      .def("report", &NativeStudy::Report)
      .def("tell", &NativeStudy::Tell)
      .def("tell_values", &NativeStudy::TellValues)
      .def("should_prune", &NativeStudy::ShouldPrune)
      .def("set_pruner", &NativeStudy::SetPruner)
      .def("set_name", &NativeStudy::SetName)
      .def("best_trials", &NativeStudy::BestTrials)
      .def("enqueue", &NativeStudy::Enqueue)
      .def("size", &NativeStudy::Size)
      .def("trial", &NativeStudy::TrialDict)
      .def("best_trial", &NativeStudy::BestTrial)
      .def("count", &NativeStudy::CountInState)
      .def_property_readonly("maximize", &NativeStudy::maximize)
      .def_property_readonly("multi_objective", &NativeStudy::multi_objective);
  plinth::python::RegisterDataBindings(m);
}
