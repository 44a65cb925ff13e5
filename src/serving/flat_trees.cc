#include "serving/flat_trees.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace plinth::serving {
namespace {

// Rows evaluated together: each tree is walked for the whole block while its nodes are in
// cache. Small enough that the block's sums live on the stack for common group counts.
constexpr size_t kBlockRows = 16;
constexpr size_t kStackFloats = 256;
constexpr size_t kLockstepTrees = 8;

}  // namespace

Status CheckFlatTreesApply(const XgbModel& model) {
  if (model.booster != "gbtree" && model.booster != "dart") {
    return InvalidArgument("flat-trees serves gbtree and dart models, not " + model.booster);
  }
  if (!FindObjective(model.objective)) {
    return InvalidArgument("flat-trees does not know objective " + model.objective);
  }
  if (model.has_vector_leaves()) {
    return InvalidArgument("flat-trees does not serve multi-output trees (vector leaves)");
  }
  for (const XgbTree& tree : model.trees) {
    if (tree.has_categorical_split()) {
      return InvalidArgument("flat-trees does not serve categorical splits");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<FlatTreesRuntime>> FlatTreesRuntime::Compile(const XgbModel& model,
                                                                    size_t tree_end) {
  PLINTH_RETURN_IF_ERROR(CheckFlatTreesApply(model));
  const ObjectiveInfo objective = *FindObjective(model.objective);
  std::unique_ptr<FlatTreesRuntime> runtime(new FlatTreesRuntime());
  runtime->num_features_ = static_cast<size_t>(model.num_feature);
  runtime->groups_ = model.num_groups();
  runtime->transform_ = objective.transform;
  for (float base_score : model.base_score) {
    runtime->base_margins_.push_back(ProbToMargin(objective.link, base_score));
  }
  tree_end = std::min(tree_end, model.trees.size());
  size_t total_nodes = 0;
  for (size_t t = 0; t < tree_end; ++t) {
    total_nodes += model.trees[t].num_nodes();
  }
  if (total_nodes >= kDefaultLeft) {
    return InvalidArgument("flat-trees: the model has too many nodes");
  }
  std::vector<Node>& nodes = runtime->nodes_;
  nodes.reserve(total_nodes);
  // Breadth-first renumbering puts both children of a split next to each other and a tree's
  // upper levels together; ParseXgboostModel has checked the indices form a tree.
  std::vector<std::pair<int32_t, uint32_t>> queue;  // (XGBoost node, our node)
  for (size_t t = 0; t < tree_end; ++t) {
    const XgbTree& tree = model.trees[t];
    const auto root = static_cast<uint32_t>(nodes.size());
    runtime->tree_roots_.push_back(root);
    runtime->tree_groups_.push_back(static_cast<uint32_t>(model.tree_info[t]));
    nodes.push_back({});
    queue.assign(1, {0, root});
    for (size_t q = 0; q < queue.size(); ++q) {
      auto [from, to] = queue[q];
      Node& node = nodes[to];
      node.value = tree.split_conditions[from];
      if (tree.left_children[from] == -1) {
        node.child = 0;
        node.feature = 0;
        if (!model.weight_drop.empty()) {
          // DART adds `tree output * weight` (both float) per tree; the product is the same
          // float whether it is taken here or at prediction time.
          node.value = tree.split_conditions[from] * model.weight_drop[t];
        }
        continue;
      }
      node.feature = tree.split_indices[from] | (tree.default_left[from] ? kDefaultLeft : 0u);
      node.child = static_cast<uint32_t>(nodes.size());
      queue.emplace_back(tree.left_children[from], node.child);
      queue.emplace_back(tree.right_children[from], node.child + 1);
      nodes.push_back({});  // may reallocate: `node` is not used after this point
      nodes.push_back({});
    }
  }
  return runtime;
}

// One step down from a split: `v < threshold` is false for NaN, so a missing value goes left
// exactly when its default is left. Branch-free, as the direction is unpredictable.
inline uint32_t FlatTreesRuntime::Next(const Node& node, const float* row) {
  const float v = row[node.feature & ~kDefaultLeft];
  const bool missing = std::isnan(v);
  const bool default_left = (node.feature & kDefaultLeft) != 0;
  const bool left = (v < node.value) | (missing & default_left);
  return node.child + static_cast<uint32_t>(!left);
}

void FlatTreesRuntime::Accumulate(const float* x, size_t cols, size_t rows, float* acc) const {
  const Node* nodes = nodes_.data();
  const size_t groups = groups_;
  // Independent walks are interleaved so that their node loads overlap instead of each waiting
  // on the last: a single row descends kLockstepTrees trees at once (their leaves are still
  // added in tree order), a block descends one tree with all its rows.
  if (rows == 1) {
    const size_t num_trees = tree_roots_.size();
    uint32_t at[kLockstepTrees];
    for (size_t first = 0; first < num_trees; first += kLockstepTrees) {
      const size_t count = std::min(kLockstepTrees, num_trees - first);
      std::copy(tree_roots_.begin() + first, tree_roots_.begin() + first + count, at);
      bool moved = true;
      while (moved) {
        moved = false;
        for (size_t k = 0; k < count; ++k) {
          const Node& node = nodes[at[k]];
          if (node.child != 0) {
            at[k] = Next(node, x);
            moved = true;
          }
        }
      }
      for (size_t k = 0; k < count; ++k) {
        acc[tree_groups_[first + k]] += nodes[at[k]].value;
      }
    }
    return;
  }
  uint32_t at[kBlockRows];
  for (size_t t = 0; t < tree_roots_.size(); ++t) {
    const uint32_t root = tree_roots_[t];
    const uint32_t group = tree_groups_[t];
    std::fill(at, at + rows, root);
    bool moved = true;
    while (moved) {
      moved = false;
      for (size_t r = 0; r < rows; ++r) {
        const Node& node = nodes[at[r]];
        if (node.child != 0) {
          at[r] = Next(node, x + r * cols);
          moved = true;
        }
      }
    }
    for (size_t r = 0; r < rows; ++r) {
      acc[r * groups + group] += nodes[at[r]].value;
    }
  }
}

Status FlatTreesRuntime::Predict(const FeatureMatrix& x, const PredictParams& params,
                                 Predictions* out) const {
  if (x.cols != num_features_) {
    return InvalidArgument("expected " + std::to_string(num_features_) + " features, got " +
                           std::to_string(x.cols));
  }
  if (x.rows > 0 && x.data == nullptr) {
    return InvalidArgument("no feature data");
  }
  const size_t groups = groups_;
  const size_t width = params.output_margin ? groups : TransformedWidth(transform_, groups);
  out->rows = x.rows;
  out->width = width;
  out->integer = false;
  out->squeeze = width == 1;
  out->values.resize(x.rows * width);

  std::array<float, kStackFloats> stack_acc;
  std::vector<float> heap_acc;
  float* acc = stack_acc.data();
  if (kBlockRows * groups > kStackFloats) {
    heap_acc.resize(kBlockRows * groups);
    acc = heap_acc.data();
  }
  for (size_t begin = 0; begin < x.rows; begin += kBlockRows) {
    const size_t rows = std::min(kBlockRows, x.rows - begin);
    for (size_t r = 0; r < rows; ++r) {
      std::copy(base_margins_.begin(), base_margins_.end(), acc + r * groups);
    }
    Accumulate(x.data + begin * x.cols, x.cols, rows, acc);
    for (size_t r = 0; r < rows; ++r) {
      float* row = acc + r * groups;
      if (!params.output_margin) {
        TransformRow(transform_, row, groups);
      }
      double* dst = out->values.data() + (begin + r) * width;
      for (size_t k = 0; k < width; ++k) {
        dst[k] = row[k];
      }
    }
  }
  return Status::Ok();
}

}  // namespace plinth::serving
