// The "flat-trees" runtime: an XGBoost tree ensemble compiled into one contiguous node array
// for low-latency prediction of single rows and small batches, with XGBoost's arithmetic
// (float `value < threshold` goes left, NaN takes the default branch, leaves summed in float in
// tree order onto the float initial margin of their output group, then the objective's float
// transform; DART's per-tree weights are folded into the leaves). It applies to gbtree and dart
// models with numerical splits, scalar leaves and an objective listed in objective.h;
// CheckFlatTreesApply says why not otherwise.
//
// Thread-safety: immutable after Compile; Predict may run on many threads at once.
#ifndef PLINTH_SERVING_FLAT_TREES_H_
#define PLINTH_SERVING_FLAT_TREES_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "serving/model.h"
#include "serving/objective.h"
#include "serving/xgboost_model.h"

namespace plinth::serving {

// OK when the flat-trees runtime can serve `model` exactly; kInvalidArgument with the reason.
Status CheckFlatTreesApply(const XgbModel& model);

class FlatTreesRuntime final : public ModelRuntime {
 public:
  // Compiles the first `tree_end` trees of `model` (see XgbModel::TreeEnd).
  static Result<std::unique_ptr<FlatTreesRuntime>> Compile(const XgbModel& model, size_t tree_end);

  std::string_view name() const override { return "flat-trees"; }
  size_t num_features() const override { return num_features_; }
  Status Predict(const FeatureMatrix& x, const PredictParams& params,
                 Predictions* out) const override;

  size_t num_trees() const { return tree_roots_.size(); }
  size_t num_nodes() const { return nodes_.size(); }

 private:
  // A split or a leaf; 12 bytes. Children are adjacent (right = left + 1) and never index 0
  // (the first tree's root), so child == 0 marks a leaf.
  struct Node {
    uint32_t child;    // index of the left child in nodes_; 0 at a leaf
    uint32_t feature;  // split feature; kDefaultLeft bit set when NaN goes left
    float value;       // split threshold, or the leaf value
  };
  static constexpr uint32_t kDefaultLeft = 0x80000000u;

  FlatTreesRuntime() = default;
  static uint32_t Next(const Node& node, const float* row);
  // Adds every tree's leaf for the `rows` rows at x into acc (rows × groups floats).
  void Accumulate(const float* x, size_t cols, size_t rows, float* acc) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> tree_roots_;
  std::vector<uint32_t> tree_groups_;
  std::vector<float> base_margins_;  // one per output group
  size_t num_features_ = 0;
  size_t groups_ = 1;
  OutputTransform transform_ = OutputTransform::kIdentity;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_FLAT_TREES_H_
