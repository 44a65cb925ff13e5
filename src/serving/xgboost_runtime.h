// The "xgboost" runtime: XGBoost's own predictor through its C API (Debian's libxgboost 1.7).
// It serves every booster XGBoost 1.7 can load (gbtree with categorical splits, dart, gblinear,
// objectives flat-trees does not know), from the model rewritten by LegacyXgboostJson so that
// 1.7 reads 3.x files' intercepts right. Only xgboost_runtime.cc sees xgboost/c_api.h.
//
// Thread-safety: Predict may run on many threads at once. XGBoost documents prediction on a
// gbtree/dart booster as thread-safe since 1.4 ("Thread Safety" in doc/prediction.rst), and in
// 1.7.4 XGBoosterPredictFromDense keeps its output buffer and shape in a per-thread, per-booster
// entry (Learner::GetThreadLocal) and builds a fresh proxy DMatrix per call. The one shared
// mutation, the learner's lazy Configure(), is done by a warm-up prediction in Load, before the
// runtime is shared. So no lock is taken. gblinear is the exception: 1.7 has no inplace
// prediction for it and does not document its DMatrix prediction as thread-safe, so those
// calls are serialised by a mutex.
#ifndef PLINTH_SERVING_XGBOOST_RUNTIME_H_
#define PLINTH_SERVING_XGBOOST_RUNTIME_H_

#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "serving/model.h"

namespace plinth::serving {

class XgboostRuntime final : public ModelRuntime {
 public:
  XgboostRuntime(const XgboostRuntime&) = delete;
  XgboostRuntime& operator=(const XgboostRuntime&) = delete;

  // Loads a model from XGBoost JSON (see LegacyXgboostJson). kInvalidArgument with XGBoost's
  // message when it refuses the model.
  // `booster` is the model's gradient booster ("gbtree", "dart", "gblinear").
  static Result<std::unique_ptr<XgboostRuntime>> Load(std::string_view model_json,
                                                      size_t num_features,
                                                      std::string_view booster);

  std::string_view name() const override { return "xgboost"; }
  size_t num_features() const override { return num_features_; }
  Status Predict(const FeatureMatrix& x, const PredictParams& params,
                 Predictions* out) const override;

 private:
  struct BoosterDeleter {
    void operator()(void* booster) const;  // XGBoosterFree
  };
  using BoosterPtr = std::unique_ptr<void, BoosterDeleter>;  // a BoosterHandle

  XgboostRuntime(BoosterPtr booster, size_t num_features, bool inplace)
      : booster_(std::move(booster)), num_features_(num_features), inplace_(inplace) {}

  BoosterPtr booster_;
  size_t num_features_;
  bool inplace_;  // XGBoosterPredictFromDense; else a DMatrix per call under dmatrix_mu_
  mutable std::mutex dmatrix_mu_;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_XGBOOST_RUNTIME_H_
