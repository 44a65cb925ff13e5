#include "serving/xgboost_model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "serving/objective.h"

namespace plinth::serving {
namespace {

using nlohmann::json;

Status Invalid(std::string_view what) {
  return InvalidArgument("XGBoost model file: " + std::string(what));
}

const json* Find(const json& object, std::string_view key) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<const json*> Require(const json& object, std::string_view key, std::string_view where) {
  const json* value = Find(object, key);
  if (value == nullptr) {
    return Invalid("missing `" + std::string(key) + "` in " + std::string(where));
  }
  return value;
}

// XGBoost writes model parameters as strings ("num_feature": "30"); very old files used numbers.
Result<int64_t> ParamInt(const json& object, std::string_view key, std::string_view where,
                         std::optional<int64_t> fallback = std::nullopt) {
  const json* value = Find(object, key);
  if (value == nullptr) {
    if (fallback) {
      return *fallback;
    }
    return Invalid("missing `" + std::string(key) + "` in " + std::string(where));
  }
  if (value->is_number_integer()) {
    return value->get<int64_t>();
  }
  if (value->is_string()) {
    const std::string& s = value->get_ref<const std::string&>();
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && ptr == s.data() + s.size()) {
      return out;
    }
  }
  return Invalid("`" + std::string(key) + "` in " + std::string(where) + " is not an integer");
}

// Reads a numeric (or boolean) array into `out`, checking every element fits T.
template <typename T>
Status ReadArray(const json& object, std::string_view key, std::string_view where,
                 std::vector<T>* out, bool required = true) {
  const json* value = Find(object, key);
  if (value == nullptr) {
    if (!required) {
      return Status::Ok();
    }
    return Invalid("missing `" + std::string(key) + "` in " + std::string(where));
  }
  if (!value->is_array()) {
    return Invalid("`" + std::string(key) + "` in " + std::string(where) + " is not an array");
  }
  out->clear();
  out->reserve(value->size());
  for (const json& element : *value) {
    if constexpr (std::is_floating_point_v<T>) {
      if (!element.is_number()) {
        return Invalid("`" + std::string(key) + "` in " + std::string(where) +
                       " holds a non-number");
      }
      out->push_back(static_cast<T>(element.get<double>()));
    } else {
      int64_t v = 0;
      if (element.is_boolean()) {
        v = element.get<bool>() ? 1 : 0;
      } else if (element.is_number_integer()) {
        v = element.get<int64_t>();
      } else {
        return Invalid("`" + std::string(key) + "` in " + std::string(where) +
                       " holds a non-integer");
      }
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          (v > 0 &&
           static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
        return Invalid("`" + std::string(key) + "` in " + std::string(where) +
                       " holds an out-of-range value");
      }
      out->push_back(static_cast<T>(v));
    }
  }
  return Status::Ok();
}

Status ReadStrings(const json& object, std::string_view key, std::vector<std::string>* out) {
  const json* value = Find(object, key);
  if (value == nullptr || value->is_null()) {
    return Status::Ok();
  }
  if (!value->is_array()) {
    return Invalid("`" + std::string(key) + "` is not an array");
  }
  for (const json& element : *value) {
    if (!element.is_string()) {
      return Invalid("`" + std::string(key) + "` holds a non-string");
    }
    out->push_back(element.get<std::string>());
  }
  return Status::Ok();
}

// Checks that children are in range and form a tree rooted at node 0 (each node reached once),
// and that splits name a feature below num_feature: the runtimes walk trees unchecked.
Status ValidateTree(const XgbTree& tree, int32_t num_feature, std::string_view where) {
  const size_t n = tree.num_nodes();
  if (n == 0) {
    return Invalid(std::string(where) + " has no nodes");
  }
  std::vector<uint8_t> seen(n, 0);
  std::vector<int32_t> stack = {0};
  seen[0] = 1;
  while (!stack.empty()) {
    int32_t node = stack.back();
    stack.pop_back();
    int32_t left = tree.left_children[node];
    int32_t right = tree.right_children[node];
    if (left == -1 && right == -1) {
      continue;
    }
    if (left < 0 || right < 0 || static_cast<size_t>(left) >= n ||
        static_cast<size_t>(right) >= n) {
      return Invalid(std::string(where) + " node " + std::to_string(node) +
                     " has a child out of range");
    }
    if (seen[left] || seen[right] || left == right) {
      return Invalid(std::string(where) + " is not a tree (node " + std::to_string(node) +
                     " reaches a node twice)");
    }
    seen[left] = seen[right] = 1;
    if (tree.split_indices[node] >= static_cast<uint32_t>(num_feature)) {
      return Invalid(std::string(where) + " node " + std::to_string(node) + " splits on feature " +
                     std::to_string(tree.split_indices[node]) + " but the model has " +
                     std::to_string(num_feature) + " features");
    }
    stack.push_back(left);
    stack.push_back(right);
  }
  return Status::Ok();
}

Result<XgbTree> ParseTree(const json& j, size_t index, int32_t num_feature) {
  const std::string where = "tree " + std::to_string(index);
  if (!j.is_object()) {
    return Invalid(where + " is not an object");
  }
  XgbTree tree;
  if (const json* param = Find(j, "tree_param")) {
    PLINTH_ASSIGN_OR_RETURN(int64_t leaf_size, ParamInt(*param, "size_leaf_vector", where, 1));
    tree.size_leaf_vector = static_cast<int32_t>(std::max<int64_t>(leaf_size, 1));
  }
  if (tree.size_leaf_vector > 1) {
    return tree;  // vector leaves: only the XGBoost runtime serves these
  }
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "left_children", where, &tree.left_children));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "right_children", where, &tree.right_children));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "split_indices", where, &tree.split_indices));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "split_conditions", where, &tree.split_conditions));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "default_left", where, &tree.default_left));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "split_type", where, &tree.split_type, false));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "categories_nodes", where, &tree.categories_nodes, false));
  PLINTH_RETURN_IF_ERROR(
      ReadArray(j, "categories_segments", where, &tree.categories_segments, false));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "categories_sizes", where, &tree.categories_sizes, false));
  PLINTH_RETURN_IF_ERROR(ReadArray(j, "categories", where, &tree.categories, false));
  const size_t n = tree.left_children.size();
  if (tree.right_children.size() != n || tree.split_indices.size() != n ||
      tree.split_conditions.size() != n || tree.default_left.size() != n ||
      (!tree.split_type.empty() && tree.split_type.size() != n)) {
    return Invalid(where + " has node arrays of different lengths");
  }
  if (const json* param = Find(j, "tree_param")) {
    PLINTH_ASSIGN_OR_RETURN(int64_t num_nodes,
                            ParamInt(*param, "num_nodes", where, static_cast<int64_t>(n)));
    if (num_nodes != static_cast<int64_t>(n)) {
      return Invalid(where + " declares " + std::to_string(num_nodes) + " nodes but has " +
                     std::to_string(n));
    }
  }
  PLINTH_RETURN_IF_ERROR(ValidateTree(tree, num_feature, where));
  return tree;
}

// The gbtree model object: {"gbtree_model_param", "trees", "tree_info", "iteration_indptr"}.
Status ParseGbtree(const json& model, XgbModel* out) {
  const std::string where = "gradient_booster.model";
  PLINTH_ASSIGN_OR_RETURN(const json* param, Require(model, "gbtree_model_param", where));
  PLINTH_ASSIGN_OR_RETURN(int64_t num_trees, ParamInt(*param, "num_trees", "gbtree_model_param"));
  PLINTH_ASSIGN_OR_RETURN(int64_t parallel,
                          ParamInt(*param, "num_parallel_tree", "gbtree_model_param", 1));
  out->num_parallel_tree = static_cast<int32_t>(std::max<int64_t>(parallel, 1));
  PLINTH_ASSIGN_OR_RETURN(const json* trees, Require(model, "trees", where));
  if (!trees->is_array() || static_cast<int64_t>(trees->size()) != num_trees) {
    return Invalid("`trees` does not hold the " + std::to_string(num_trees) +
                   " trees num_trees declares");
  }
  PLINTH_RETURN_IF_ERROR(ReadArray(model, "tree_info", where, &out->tree_info));
  if (out->tree_info.size() != trees->size()) {
    return Invalid("`tree_info` and `trees` differ in length");
  }
  const auto groups = static_cast<int32_t>(out->num_groups());
  for (int32_t group : out->tree_info) {
    if (group < 0 || group >= groups) {
      return Invalid("`tree_info` names output group " + std::to_string(group) + " of " +
                     std::to_string(groups));
    }
  }
  PLINTH_RETURN_IF_ERROR(
      ReadArray(model, "iteration_indptr", where, &out->iteration_indptr, false));
  for (size_t i = 0; i < out->iteration_indptr.size(); ++i) {
    int64_t v = out->iteration_indptr[i];
    if (v < 0 || v > num_trees || (i > 0 && v < out->iteration_indptr[i - 1])) {
      return Invalid("`iteration_indptr` is not a non-decreasing index into the trees");
    }
  }
  out->trees.reserve(trees->size());
  for (size_t i = 0; i < trees->size(); ++i) {
    PLINTH_ASSIGN_OR_RETURN(XgbTree tree, ParseTree((*trees)[i], i, out->num_feature));
    out->trees.push_back(std::move(tree));
  }
  return Status::Ok();
}

Status ParseLearner(const json& root, XgbModel* out) {
  if (!root.is_object()) {
    return Invalid("the document is not an object");
  }
  PLINTH_RETURN_IF_ERROR(ReadArray(root, "version", "the document", &out->version, false));
  PLINTH_ASSIGN_OR_RETURN(const json* learner, Require(root, "learner", "the document"));

  PLINTH_ASSIGN_OR_RETURN(const json* mparam, Require(*learner, "learner_model_param", "learner"));
  const char* mp = "learner_model_param";
  PLINTH_ASSIGN_OR_RETURN(int64_t num_feature, ParamInt(*mparam, "num_feature", mp));
  PLINTH_ASSIGN_OR_RETURN(int64_t num_class, ParamInt(*mparam, "num_class", mp, 0));
  PLINTH_ASSIGN_OR_RETURN(int64_t num_target, ParamInt(*mparam, "num_target", mp, 1));
  constexpr int64_t kMaxCount = 1 << 24;  // far beyond any real model; bounds allocations
  if (num_feature < 0 || num_feature > kMaxCount || num_class < 0 || num_class > kMaxCount ||
      num_target < 1 || num_target > kMaxCount) {
    return Invalid("num_feature, num_class or num_target out of range");
  }
  out->num_feature = static_cast<int32_t>(num_feature);
  out->num_class = static_cast<int32_t>(num_class);
  out->num_target = static_cast<int32_t>(num_target);

  PLINTH_ASSIGN_OR_RETURN(const json* base_score, Require(*mparam, "base_score", mp));
  if (base_score->is_string()) {
    PLINTH_ASSIGN_OR_RETURN(out->base_score,
                            ParseBaseScore(base_score->get_ref<const std::string&>()));
  } else if (base_score->is_number()) {
    out->base_score = {static_cast<float>(base_score->get<double>())};
  } else {
    return Invalid("base_score is neither a string nor a number");
  }
  const size_t groups = out->num_groups();
  if (out->base_score.size() == 1 && groups > 1) {
    out->base_score.resize(groups, out->base_score[0]);  // pre-3.1 scalar intercept
  }
  if (out->base_score.size() != groups) {
    return Invalid("base_score has " + std::to_string(out->base_score.size()) + " values for " +
                   std::to_string(groups) + " outputs");
  }

  PLINTH_ASSIGN_OR_RETURN(const json* objective, Require(*learner, "objective", "learner"));
  const json* objective_name = Find(*objective, "name");
  if (objective_name == nullptr || !objective_name->is_string()) {
    return Invalid("missing `objective.name`");
  }
  out->objective = objective_name->get<std::string>();

  PLINTH_RETURN_IF_ERROR(ReadStrings(*learner, "feature_names", &out->feature_names));
  PLINTH_RETURN_IF_ERROR(ReadStrings(*learner, "feature_types", &out->feature_types));
  if (!out->feature_names.empty() &&
      out->feature_names.size() != static_cast<size_t>(out->num_feature)) {
    return Invalid("feature_names has " + std::to_string(out->feature_names.size()) +
                   " names for " + std::to_string(out->num_feature) + " features");
  }
  if (const json* attributes = Find(*learner, "attributes")) {
    if (const json* best = Find(*attributes, "best_iteration"); best && best->is_string()) {
      const std::string& s = best->get_ref<const std::string&>();
      int32_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && ptr == s.data() + s.size() && v >= 0) {
        out->best_iteration = v;
      }
    }
  }

  PLINTH_ASSIGN_OR_RETURN(const json* booster, Require(*learner, "gradient_booster", "learner"));
  const json* booster_name = Find(*booster, "name");
  if (booster_name == nullptr || !booster_name->is_string()) {
    return Invalid("missing `gradient_booster.name`");
  }
  out->booster = booster_name->get<std::string>();
  if (out->booster == "gbtree") {
    PLINTH_ASSIGN_OR_RETURN(const json* model, Require(*booster, "model", "gradient_booster"));
    return ParseGbtree(*model, out);
  }
  if (out->booster == "dart") {
    // DART keeps a gbtree inside, plus one output weight per tree.
    PLINTH_ASSIGN_OR_RETURN(const json* gbtree, Require(*booster, "gbtree", "gradient_booster"));
    PLINTH_ASSIGN_OR_RETURN(const json* model,
                            Require(*gbtree, "model", "gradient_booster.gbtree"));
    PLINTH_RETURN_IF_ERROR(ParseGbtree(*model, out));
    PLINTH_RETURN_IF_ERROR(
        ReadArray(*booster, "weight_drop", "gradient_booster", &out->weight_drop));
    if (out->weight_drop.size() != out->trees.size()) {
      return Invalid("`weight_drop` has " + std::to_string(out->weight_drop.size()) +
                     " weights for " + std::to_string(out->trees.size()) + " trees");
    }
    return Status::Ok();
  }
  if (out->booster == "gblinear") {
    return Status::Ok();
  }
  return Invalid("unknown gradient booster `" + out->booster + "`");
}

Result<json> ParseDocument(std::string_view bytes, XgbFileFormat format) {
  json doc;
  if (format == XgbFileFormat::kJson) {
    doc = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  } else {
    doc = json::from_ubjson(bytes.begin(), bytes.end(), /*strict=*/true,
                            /*allow_exceptions=*/false);
  }
  if (doc.is_discarded()) {
    return Invalid(format == XgbFileFormat::kJson ? "not valid JSON (corrupt or truncated?)"
                                                  : "not valid UBJSON (corrupt or truncated?)");
  }
  return doc;
}

// "%.9g" round-trips a float exactly, which 1.7's parameter parser reads back bit for bit.
std::string FloatText(float v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", static_cast<double>(v));
  return buffer;
}

json StumpTree(float leaf, const json& tree_param_template) {
  json param = tree_param_template.is_object() ? tree_param_template : json::object();
  param["num_nodes"] = "1";
  param["num_deleted"] = "0";
  return json{{"base_weights", {leaf}},
              {"categories", json::array()},
              {"categories_nodes", json::array()},
              {"categories_segments", json::array()},
              {"categories_sizes", json::array()},
              {"default_left", {0}},
              {"id", 0},
              {"left_children", {-1}},
              {"loss_changes", {0.0}},
              {"parents", {2147483647}},
              {"right_children", {-1}},
              {"split_conditions", {leaf}},
              {"split_indices", {0}},
              {"split_type", {0}},
              {"sum_hessian", {0.0}},
              {"tree_param", param}};
}

Result<std::string> RewriteForLegacy(json doc, const XgbModel& model, size_t tree_end) {
  json& learner = doc["learner"];
  json& booster = learner["gradient_booster"];
  json* gbtree_model = nullptr;
  json* weight_drop = nullptr;
  if (model.booster == "gbtree") {
    gbtree_model = &booster["model"];
  } else if (model.booster == "dart") {
    gbtree_model = &booster["gbtree"]["model"];
    if (booster.contains("weight_drop")) {
      weight_drop = &booster["weight_drop"];
    }
  }
  json& base_score = learner["learner_model_param"]["base_score"];
  const bool uniform = std::all_of(model.base_score.begin(), model.base_score.end(),
                                   [&](float v) { return v == model.base_score[0]; });
  if (uniform || gbtree_model == nullptr) {
    base_score = FloatText(model.base_score.empty() ? 0.5f : model.base_score[0]);
  }
  if (gbtree_model == nullptr) {
    return doc.dump();
  }
  json& trees = (*gbtree_model)["trees"];
  json& tree_info = (*gbtree_model)["tree_info"];
  json kept_trees = json::array();
  json kept_info = json::array();
  json kept_weights = json::array();
  if (!uniform) {
    std::optional<ObjectiveInfo> objective = FindObjective(model.objective);
    if (!objective) {
      return Invalid("per-output intercepts with objective `" + model.objective +
                     "`, which the XGBoost 1.7 runtime cannot reproduce");
    }
    // The value whose margin is exactly 0: logit(0.5) = -logf(1) = -0 and logf(1) = 0.
    float zero = objective->link == MarginLink::kLogit ? 0.5f
                 : objective->link == MarginLink::kLog ? 1.0f
                                                       : 0.0f;
    base_score = FloatText(zero);
    const json& param_template = trees.empty() ? json() : trees[0]["tree_param"];
    for (size_t g = 0; g < model.base_score.size(); ++g) {
      kept_trees.push_back(
          StumpTree(ProbToMargin(objective->link, model.base_score[g]), param_template));
      kept_info.push_back(static_cast<int64_t>(g));
      kept_weights.push_back(1.0);
    }
  }
  for (size_t t = 0; t < tree_end && t < trees.size(); ++t) {
    kept_trees.push_back(std::move(trees[t]));
    kept_info.push_back(tree_info[t]);
    if (weight_drop != nullptr && t < weight_drop->size()) {
      kept_weights.push_back((*weight_drop)[t]);
    }
  }
  for (size_t t = 0; t < kept_trees.size(); ++t) {
    kept_trees[t]["id"] = static_cast<int64_t>(t);  // 1.7 places each tree by its id
  }
  const size_t kept = kept_trees.size();
  trees = std::move(kept_trees);
  tree_info = std::move(kept_info);
  if (weight_drop != nullptr) {
    *weight_drop = std::move(kept_weights);
  }
  json& param = (*gbtree_model)["gbtree_model_param"];
  param["num_trees"] = std::to_string(kept);
  // Every kept tree is predicted, so rounds no longer need to line up with forests.
  param["num_parallel_tree"] = "1";
  gbtree_model->erase("iteration_indptr");
  return doc.dump();
}

}  // namespace

bool XgbTree::has_categorical_split() const {
  return std::any_of(split_type.begin(), split_type.end(), [](uint8_t t) { return t != 0; });
}

size_t XgbModel::num_groups() const {
  return static_cast<size_t>(std::max({num_class, num_target, int32_t{1}}));
}

bool XgbModel::has_vector_leaves() const {
  return std::any_of(trees.begin(), trees.end(),
                     [](const XgbTree& t) { return t.size_leaf_vector > 1; });
}

size_t XgbModel::TreeEnd(int32_t iteration_end) const {
  if (iteration_end <= 0) {
    return trees.size();
  }
  const auto end = static_cast<size_t>(iteration_end);
  if (!iteration_indptr.empty()) {
    return end + 1 < iteration_indptr.size() ? static_cast<size_t>(iteration_indptr[end])
                                             : trees.size();
  }
  // Files without iteration_indptr (XGBoost < 2): every round has the same number of trees.
  const size_t per_round = num_groups() * static_cast<size_t>(num_parallel_tree);
  return std::min(trees.size(), end * per_round);
}

Result<std::vector<float>> ParseBaseScore(std::string_view text) {
  std::string_view body = text;
  const bool bracketed = !body.empty() && body.front() == '[';
  if (bracketed) {
    if (body.back() != ']') {
      return Invalid("base_score `" + std::string(text) + "` is not a number or [list]");
    }
    body = body.substr(1, body.size() - 2);
  }
  std::vector<float> values;
  while (true) {
    size_t comma = body.find(',');
    std::string_view token = body.substr(0, comma);
    while (!token.empty() && token.front() == ' ') {
      token.remove_prefix(1);
    }
    while (!token.empty() && token.back() == ' ') {
      token.remove_suffix(1);
    }
    float v = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (token.empty() || ec != std::errc() || ptr != token.data() + token.size() ||
        !std::isfinite(v)) {
      return Invalid("base_score `" + std::string(text) + "` is not a number or [list]");
    }
    values.push_back(v);
    if (comma == std::string_view::npos) {
      break;
    }
    body.remove_prefix(comma + 1);
  }
  return values;
}

Result<XgbModel> ParseXgboostModel(std::string_view bytes, XgbFileFormat format) {
  // nlohmann reports malformed input through is_discarded(), but field access on odd types and
  // allocation can still throw: nothing may escape this module.
  try {
    PLINTH_ASSIGN_OR_RETURN(json doc, ParseDocument(bytes, format));
    XgbModel model;
    PLINTH_RETURN_IF_ERROR(ParseLearner(doc, &model));
    return model;
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

Result<std::string> LegacyXgboostJson(std::string_view bytes, XgbFileFormat format,
                                      const XgbModel& model, size_t tree_end) {
  try {
    PLINTH_ASSIGN_OR_RETURN(json doc, ParseDocument(bytes, format));
    return RewriteForLegacy(std::move(doc), model, tree_end);
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

}  // namespace plinth::serving
