// MLflow's search DSL: parses the `filter` and `order_by` strings of SearchRuns and
// SearchExperiments into the store's query AST (store/query.h), with the grammar, the per-entity
// comparator rules and the error texts of MLflow's `mlflow/utils/search_utils.py` (SearchUtils,
// SearchExperimentsUtils) plus the checks MLflow's SQL store makes before it queries.
//
// A small hand-rolled scanner and recursive-descent parser stand in for sqlparse: no regex, and
// on success nothing is allocated but the returned AST (a typical filter parses in under 1 us).
// Every function here is pure and thread-safe.
//
// Grammar (keywords case-insensitive):
//   filter     := { clause | AND }                  -- AND-only; OR, NOT and parentheses are errors
//   clause     := identifier comparator value
//               | identifier [NOT] IN '(' 'str' {',' 'str'} [','] ')'
//               | identifier IS [NOT] NULL
//   identifier := [entity '.'] key                  -- no entity: an attribute
//   key        := word{'.'word} | "double quoted" | `backticked`  (e.g. tags.mlflow.source.type)
//   value      := 'single quoted' | "double quoted" | number (int, float, 1e5, -2.5)
// String values keep their text between the quotes verbatim, as MLflow does ('it''s' is it''s).
#ifndef PLINTH_TRACKING_SEARCH_FILTER_H_
#define PLINTH_TRACKING_SEARCH_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/query.h"

namespace plinth::tracking {

// Parses a SearchRuns filter. Entities: metric(s), param(s)/parameter(s), tag(s),
// attribute(s)/attr/run, dataset(s). Attribute aliases are resolved (`created` -> start_time,
// `run name` -> run_name). An empty or all-whitespace filter yields an empty Filter.
// Fails with kInvalidArgument and MLflow's message on any syntax, key, value or comparator error.
Result<store::Filter> ParseRunFilter(std::string_view filter);

// Parses SearchRuns order_by entries, each "<identifier> [ASC|DESC]" (default ascending).
// Fails with kInvalidArgument on the first entry MLflow would reject.
Result<std::vector<store::OrderBy>> ParseRunOrderBy(const std::vector<std::string>& order_by);

// Parses a SearchExperiments filter: attributes name, experiment_id, creation_time,
// last_update_time, and tag(s).<key>. An empty or all-whitespace filter yields an empty Filter.
// Fails with kInvalidArgument and MLflow's message otherwise.
Result<store::Filter> ParseExperimentFilter(std::string_view filter);

// Parses SearchExperiments order_by entries: name, experiment_id, creation_time,
// last_update_time. Fails with kInvalidArgument on the first entry MLflow would reject.
Result<std::vector<store::OrderBy>> ParseExperimentOrderBy(
    const std::vector<std::string>& order_by);

// Parses a SearchLoggedModels filter: metrics, params and tags as for runs, plus the attributes
// name, model_id, model_type, status, source_run_id, creation_time (creation_timestamp) and
// last_updated_timestamp. Fails with kInvalidArgument as ParseRunFilter does.
Result<store::Filter> ParseLoggedModelFilter(std::string_view filter);

// Parses a search_registered_models filter: the attribute `name` (= != LIKE ILIKE IN NOT IN) and
// tag(s).<key> (= != LIKE ILIKE). Fails with kInvalidArgument and MLflow's message otherwise.
Result<store::Filter> ParseRegisteredModelFilter(std::string_view filter);

// Parses a search_model_versions filter: attributes name and run_id (also IN lists), source_path,
// version_number (numeric, integers only; '3' reads as 3) and tag(s).<key>.
Result<store::Filter> ParseModelVersionFilter(std::string_view filter);

// Registered models' order_by: name, timestamp or last_updated_timestamp (both the update time),
// each at most once. Model versions': [attribute.]name, version_number, creation_timestamp,
// last_updated_timestamp. Fails with kInvalidArgument and MLflow's message.
Result<std::vector<store::OrderBy>> ParseRegisteredModelOrderBy(
    const std::vector<std::string>& order_by);
Result<std::vector<store::OrderBy>> ParseModelVersionOrderBy(
    const std::vector<std::string>& order_by);

}  // namespace plinth::tracking

#endif  // PLINTH_TRACKING_SEARCH_FILTER_H_
