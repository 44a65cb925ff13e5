// Parsed search queries: the tracking engine parses MLflow's filter and order_by strings into
// these, and each MetadataStore backend compiles them to its SQL dialect. Value types.
#ifndef PLINTH_STORE_QUERY_H_
#define PLINTH_STORE_QUERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "store/records.h"

namespace plinth::store {

// What a filter clause or order_by key refers to.
enum class EntityKind {
  kMetric,     // metrics.<key>: latest value, numeric
  kParam,      // params.<key>: string
  kTag,        // tags.<key>: string
  kAttribute,  // attributes.<key>: run_id, run_name, user_id, status, artifact_uri,
               // start_time, end_time (runs); name, creation_time, last_update_time,
               // experiment_id (experiments)
  kDataset,    // datasets.<name|digest|context>
};

enum class Comparator {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kLike,
  kILike,
  kIn,
  kNotIn,
  kIsNull,
  kIsNotNull,
};

struct FilterClause {
  EntityKind entity = EntityKind::kAttribute;
  std::string key;  // canonical attribute name (aliases resolved), or the metric/param/tag key
  Comparator comparator = Comparator::kEq;
  bool numeric = false;  // true: compare number_value; false: string_value/string_list
  double number_value = 0;
  std::string string_value;
  std::vector<std::string> string_list;  // IN / NOT IN
};

// Clauses are ANDed: MLflow's grammar has no OR.
struct Filter {
  std::vector<FilterClause> clauses;
};

struct OrderBy {
  EntityKind entity = EntityKind::kAttribute;
  std::string key;
  bool ascending = true;
};

struct RunSearch {
  std::vector<std::string> experiment_ids;
  Filter filter;
  std::vector<OrderBy> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  int64_t offset = 0;
};

struct ExperimentSearch {
  Filter filter;
  std::vector<OrderBy> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  int64_t offset = 0;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_QUERY_H_
