// An XGBoost model file (JSON `model.json` or UBJSON `model.ubj`, as XGBoost 1.x–3.x save them)
// read into plain structs that the runtimes compile from. Every index in a parsed tree has been
// checked (children in range and forming a tree, split features below num_feature), so a
// runtime may walk it without bounds checks; a corrupt or truncated file is an error, never a
// crash. Parsing is a pure function; the structs are values, thread-compatible.
#ifndef PLINTH_SERVING_XGBOOST_MODEL_H_
#define PLINTH_SERVING_XGBOOST_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace plinth::serving {

enum class XgbFileFormat { kJson, kUbjson };

// One regression tree in XGBoost's own node numbering (the root is node 0).
struct XgbTree {
  std::vector<int32_t> left_children;  // -1 at a leaf
  std::vector<int32_t> right_children;
  std::vector<uint32_t> split_indices;  // feature index of a split
  std::vector<float> split_conditions;  // threshold of a split; the leaf value at a leaf
  std::vector<uint8_t> default_left;    // where a missing (NaN) value goes
  std::vector<uint8_t> split_type;      // 0 numerical, 1 categorical (empty: all numerical)
  // Categorical splits (XGBoost's layout): the category set of node categories_nodes[i] is
  // categories[categories_segments[i] .. + categories_sizes[i]).
  std::vector<int32_t> categories_nodes;
  std::vector<int64_t> categories_segments;
  std::vector<int64_t> categories_sizes;
  std::vector<int32_t> categories;
  int32_t size_leaf_vector = 1;  // > 1: a multi-target tree (vector leaves), not parsed further

  size_t num_nodes() const { return left_children.size(); }
  bool has_categorical_split() const;
};

struct XgbModel {
  std::vector<int32_t> version;  // XGBoost version that wrote the file, e.g. {3, 2, 0}
  std::string booster;           // "gbtree", "dart" or "gblinear"
  std::string objective;         // e.g. "binary:logistic"
  int32_t num_feature = 0;
  int32_t num_class = 0;  // 0 unless multi-class
  int32_t num_target = 1;
  // The intercept in output space, one per output group. XGBoost < 3.1 stores a scalar ("5E-1"),
  // 3.1+ a vector ("[-1.264809E-1]"); a scalar is repeated to every group, as XGBoost does.
  std::vector<float> base_score;
  std::vector<std::string> feature_names;  // empty when trained without names
  std::vector<std::string> feature_types;
  std::vector<XgbTree> trees;
  std::vector<int32_t> tree_info;  // output group of each tree
  std::vector<int64_t>
      iteration_indptr;  // trees of round i: [indptr[i], indptr[i+1]); may be empty
  int32_t num_parallel_tree = 1;
  std::vector<float> weight_drop;         // DART: each tree's output weight (empty for gbtree)
  std::optional<int32_t> best_iteration;  // the `best_iteration` attribute (early stopping)

  // Number of output groups: max(num_class, num_target, 1).
  size_t num_groups() const;
  // True when any tree has vector leaves (multi_strategy="multi_output_tree").
  bool has_vector_leaves() const;
  // Number of leading trees that make up the first `iteration_end` boosting rounds (0 = all).
  size_t TreeEnd(int32_t iteration_end) const;
};

// Parses a model file's bytes. kInvalidArgument, naming the field, on anything malformed.
Result<XgbModel> ParseXgboostModel(std::string_view bytes, XgbFileFormat format);

// Parses a base_score string, "5E-1" or "[6.5E-2,7.6E-2]", into its values.
Result<std::vector<float>> ParseBaseScore(std::string_view text);

// The same model as JSON that XGBoost 1.7 (Debian's libxgboost) predicts correctly: 1.7 reads
// only a scalar base_score and misreads 3.1+'s vector form. A uniform intercept is written back
// as a scalar; per-group intercepts become one single-leaf tree per group in front of the others
// (holding that group's initial margin, `margins[g]`) with base_score set to the value whose
// margin is exactly 0, which adds up to the same floats. Only the first `tree_end` trees are
// kept. kInvalidArgument when the file cannot be rewritten.
Result<std::string> LegacyXgboostJson(std::string_view bytes, XgbFileFormat format,
                                      const XgbModel& model, size_t tree_end);

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_XGBOOST_MODEL_H_
