#include "store/sql_filter.h"

namespace plinth::store {
namespace {

const char* OpSql(Comparator c) {
  switch (c) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kLike:
      return "LIKE";  // case-sensitive: connections set PRAGMA case_sensitive_like=ON
    default:
      return "=";
  }
}

// `column <op> value` for a string comparison, including ILIKE and IN lists.
std::string StringCondition(const std::string& column, const FilterClause& c,
                            std::vector<SqlValue>* binds) {
  switch (c.comparator) {
    case Comparator::kILike:
      binds->emplace_back(c.string_value);
      return "LOWER(" + column + ") LIKE LOWER(?)";
    case Comparator::kIn:
    case Comparator::kNotIn: {
      std::string list;
      for (const std::string& v : c.string_list) {
        if (!list.empty()) list += ", ";
        list += "?";
        binds->emplace_back(v);
      }
      if (list.empty()) {
        return c.comparator == Comparator::kIn ? "0=1" : "1=1";
      }
      return column + (c.comparator == Comparator::kIn ? " IN (" : " NOT IN (") + list + ")";
    }
    default:
      binds->emplace_back(c.string_value);
      return column + " " + OpSql(c.comparator) + " ?";
  }
}

std::string NumberCondition(const std::string& column, const FilterClause& c,
                            std::vector<SqlValue>* binds) {
  binds->emplace_back(c.number_value);
  return column + " " + OpSql(c.comparator) + " ?";
}

// A key-value child table (params, tags, …) as `parent IN (SELECT fk … WHERE key=? AND …)`;
// IS NULL means "no such key". The IN form lets SQLite drive the search from the child table's
// (key, value) index when that is the selective side, where a correlated EXISTS forces a probe
// per parent row (measured on 10,000 runs with statistics: 9 ms against 20 ms).
std::string KeyValueCondition(const std::string& table, const std::string& fk,
                              const std::string& parent, const FilterClause& c,
                              std::vector<SqlValue>* binds) {
  binds->emplace_back(c.key);
  std::string base = "SELECT kv." + fk + " FROM " + table + " kv WHERE kv.key=?";
  if (c.comparator == Comparator::kIsNull) {
    return parent + " NOT IN (" + base + ")";
  }
  if (c.comparator == Comparator::kIsNotNull) {
    return parent + " IN (" + base + ")";
  }
  return parent + " IN (" + base + " AND " + StringCondition("kv.value", c, binds) + ")";
}

// The attribute columns each search can filter and order on, by the canonical names the parser
// produces (tracking/search_filter.cc).
struct AttributeColumn {
  std::string_view name;
  const char* column;
};
constexpr AttributeColumn kRunColumns[] = {{"run_id", "r.run_uuid"},
                                           {"run_name", "r.name"},
                                           {"user_id", "r.user_id"},
                                           {"status", "r.status"},
                                           {"artifact_uri", "r.artifact_uri"},
                                           {"start_time", "r.start_time"},
                                           {"end_time", "r.end_time"},
                                           {"lifecycle_stage", "r.lifecycle_stage"},
                                           {"experiment_id", "r.experiment_id"}};
constexpr AttributeColumn kExperimentColumns[] = {{"name", "e.name"},
                                                  {"experiment_id", "e.experiment_id"},
                                                  {"creation_time", "e.creation_time"},
                                                  {"last_update_time", "e.last_update_time"}};
constexpr AttributeColumn kLoggedModelColumns[] = {
    {"name", "m.name"},
    {"model_id", "m.model_id"},
    {"model_type", "m.model_type"},
    {"status", "m.status"},
    {"source_run_id", "m.source_run_id"},
    {"creation_time", "m.creation_timestamp_ms"},
    {"creation_timestamp", "m.creation_timestamp_ms"},
    {"last_updated_timestamp", "m.last_updated_timestamp_ms"}};

constexpr AttributeColumn kRegisteredModelColumns[] = {
    {"name", "rm.name"},
    {"creation_timestamp", "rm.creation_time"},
    {"last_updated_timestamp", "rm.last_updated_time"}};
constexpr AttributeColumn kModelVersionColumns[] = {
    {"name", "rm.name"},
    {"version_number", "v.version"},
    {"run_id", "v.run_id"},
    {"source_path", "v.source"},
    {"creation_timestamp", "v.creation_time"},
    {"last_updated_timestamp", "v.last_updated_time"}};

template <size_t N>
const char* ColumnOf(const AttributeColumn (&table)[N], std::string_view key) {
  for (const AttributeColumn& a : table) {
    if (a.name == key) return a.column;
  }
  return nullptr;
}

Status Unsupported(const FilterClause& c, const char* what);

// `column <op> value` for an attribute clause, or kInvalidArgument for an unknown attribute.
template <size_t N>
Result<std::string> AttributeCondition(const AttributeColumn (&table)[N], const FilterClause& c,
                                       std::vector<SqlValue>* binds) {
  const char* column = ColumnOf(table, c.key);
  if (column == nullptr) {
    return Unsupported(c, "attribute");
  }
  return c.numeric ? NumberCondition(column, c, binds) : StringCondition(column, c, binds);
}

Status Unsupported(const FilterClause& c, const char* what) {
  return InvalidArgument(std::string("Invalid filter: ") + what + " '" + c.key +
                         "' is not supported here");
}

}  // namespace

Result<std::string> CompileRunFilter(const Filter& filter, std::vector<SqlValue>* binds) {
  std::string sql;
  for (const FilterClause& c : filter.clauses) {
    std::string cond;
    switch (c.entity) {
      case EntityKind::kMetric: {
        binds->emplace_back(c.key);
        cond =
            "r.run_key IN (SELECT lm.run_key FROM latest_metrics lm WHERE lm.key=? AND "
            "lm.is_nan=0 AND " +
            NumberCondition("lm.value", c, binds) + ")";
        break;
      }
      case EntityKind::kParam:
        cond = KeyValueCondition("params", "run_key", "r.run_key", c, binds);
        break;
      case EntityKind::kTag:
        cond = KeyValueCondition("tags", "run_key", "r.run_key", c, binds);
        break;
      case EntityKind::kAttribute: {
        PLINTH_ASSIGN_OR_RETURN(cond, AttributeCondition(kRunColumns, c, binds));
        break;
      }
      case EntityKind::kDataset: {
        std::string inner;
        if (c.key == "context") {
          std::vector<SqlValue> tmp;
          inner =
              "EXISTS (SELECT 1 FROM input_tags it WHERE it.run_key=r.run_key AND "
              "it.key='mlflow.data.context' AND " +
              StringCondition("it.value", c, binds) + ")";
          cond = inner;
        } else if (c.key == "name" || c.key == "digest") {
          cond =
              "EXISTS (SELECT 1 FROM run_inputs ri JOIN datasets d ON "
              "d.dataset_uuid=ri.dataset_uuid WHERE ri.run_key=r.run_key AND " +
              StringCondition("d." + c.key, c, binds) + ")";
        } else {
          return Unsupported(c, "dataset attribute");
        }
        break;
      }
    }
    sql += " AND " + cond;
  }
  return sql;
}

Result<std::string> CompileRunOrderBy(const OrderBy& o, int index, std::string* joins,
                                      std::vector<SqlValue>* binds) {
  const char* dir = o.ascending ? " ASC" : " DESC";
  std::string alias = "o" + std::to_string(index);
  switch (o.entity) {
    case EntityKind::kMetric:
      *joins += " LEFT JOIN latest_metrics " + alias + " ON " + alias + ".run_key=r.run_key AND " +
                alias + ".key=?";
      binds->emplace_back(o.key);
      // Missing values last, then NaN after numbers, whatever the direction (as MLflow).
      return "(" + alias + ".value IS NULL) ASC, " + alias + ".is_nan ASC, " + alias + ".value" +
             dir;
    case EntityKind::kParam:
    case EntityKind::kTag: {
      const char* table = o.entity == EntityKind::kParam ? "params" : "tags";
      *joins += std::string(" LEFT JOIN ") + table + " " + alias + " ON " + alias +
                ".run_key=r.run_key AND " + alias + ".key=?";
      binds->emplace_back(o.key);
      return "(" + alias + ".value IS NULL) ASC, " + alias + ".value" + dir;
    }
    case EntityKind::kAttribute: {
      if (const char* col = ColumnOf(kRunColumns, o.key)) {
        return "(" + std::string(col) + " IS NULL) ASC, " + col + dir;
      }
      return InvalidArgument("Invalid order_by attribute '" + o.key + "'");
    }
    case EntityKind::kDataset:
      return InvalidArgument("Invalid order_by clause: datasets cannot be ordered by");
  }
  return InvalidArgument("Invalid order_by clause");
}

Result<std::string> CompileExperimentFilter(const Filter& filter, std::vector<SqlValue>* binds) {
  std::string sql;
  for (const FilterClause& c : filter.clauses) {
    std::string cond;
    if (c.entity == EntityKind::kTag) {
      cond = KeyValueCondition("experiment_tags", "experiment_id", "e.experiment_id", c, binds);
    } else if (c.entity == EntityKind::kAttribute) {
      PLINTH_ASSIGN_OR_RETURN(cond, AttributeCondition(kExperimentColumns, c, binds));
    } else {
      return Unsupported(c, "entity");
    }
    sql += " AND " + cond;
  }
  return sql;
}

Result<std::string> CompileExperimentOrderBy(const OrderBy& o, std::vector<SqlValue>* binds) {
  const char* dir = o.ascending ? " ASC" : " DESC";
  if (o.entity == EntityKind::kAttribute) {
    if (const char* col = ColumnOf(kExperimentColumns, o.key)) {
      return std::string(col) + dir;
    }
  }
  return InvalidArgument("Invalid order_by clause '" + o.key +
                         "'. Only name, experiment_id, creation_time and last_update_time are "
                         "supported.");
}

Result<std::string> CompileLoggedModelFilter(const Filter& filter, std::vector<SqlValue>* binds) {
  std::string sql;
  for (const FilterClause& c : filter.clauses) {
    std::string cond;
    switch (c.entity) {
      case EntityKind::kParam:
        cond = KeyValueCondition("logged_model_params", "model_id", "m.model_id", c, binds);
        break;
      case EntityKind::kTag:
        cond = KeyValueCondition("logged_model_tags", "model_id", "m.model_id", c, binds);
        break;
      case EntityKind::kMetric: {
        // The model's newest point for the key.
        binds->emplace_back(c.key);
        cond =
            "(SELECT mt.value FROM metrics mt WHERE mt.model_id=m.model_id AND mt.key=? "
            "ORDER BY mt.step DESC, mt.timestamp DESC LIMIT 1) " +
            std::string(OpSql(c.comparator)) + " ?";
        binds->emplace_back(c.number_value);
        break;
      }
      case EntityKind::kAttribute: {
        PLINTH_ASSIGN_OR_RETURN(cond, AttributeCondition(kLoggedModelColumns, c, binds));
        break;
      }
      case EntityKind::kDataset:
        return Unsupported(c, "dataset");
    }
    sql += " AND " + cond;
  }
  return sql;
}

Result<std::string> CompileLoggedModelOrderBy(const OrderBy& o, std::vector<SqlValue>* binds) {
  const char* dir = o.ascending ? " ASC" : " DESC";
  if (o.entity == EntityKind::kMetric) {
    binds->emplace_back(o.key);
    std::string v =
        "(SELECT mt.value FROM metrics mt WHERE mt.model_id=m.model_id AND mt.key=? "
        "ORDER BY mt.step DESC, mt.timestamp DESC LIMIT 1)";
    binds->emplace_back(o.key);
    return "(" + v + " IS NULL) ASC, " +
           "(SELECT mt.value FROM metrics mt WHERE mt.model_id=m.model_id AND mt.key=? "
           "ORDER BY mt.step DESC, mt.timestamp DESC LIMIT 1)" +
           dir;
  }
  if (const char* col = ColumnOf(kLoggedModelColumns, o.key)) {
    return std::string(col) + dir;
  }
  return InvalidArgument("Invalid order_by field '" + o.key + "' for logged models");
}

Result<std::string> CompileRegisteredModelFilter(const Filter& filter,
                                                 std::vector<SqlValue>* binds) {
  std::string sql;
  for (const FilterClause& c : filter.clauses) {
    std::string cond;
    if (c.entity == EntityKind::kTag) {
      cond = KeyValueCondition("registered_model_tags", "model_key", "rm.model_key", c, binds);
    } else if (c.entity == EntityKind::kAttribute) {
      PLINTH_ASSIGN_OR_RETURN(cond, AttributeCondition(kRegisteredModelColumns, c, binds));
    } else {
      return Unsupported(c, "entity");
    }
    sql += " AND " + cond;
  }
  return sql;
}

Result<std::string> CompileRegisteredModelOrderBy(const OrderBy& o) {
  if (o.entity == EntityKind::kAttribute) {
    if (const char* col = ColumnOf(kRegisteredModelColumns, o.key)) {
      return std::string(col) + (o.ascending ? " ASC" : " DESC");
    }
  }
  return InvalidArgument("Invalid order by key '" + o.key + "' for registered models");
}

Result<std::string> CompileModelVersionFilter(const Filter& filter, std::vector<SqlValue>* binds) {
  std::string sql;
  for (const FilterClause& c : filter.clauses) {
    std::string cond;
    if (c.entity == EntityKind::kTag) {
      // A version is two columns: match the pair.
      binds->emplace_back(c.key);
      cond =
          "(v.model_key, v.version) IN (SELECT kv.model_key, kv.version FROM "
          "model_version_tags kv WHERE kv.key=? AND " +
          StringCondition("kv.value", c, binds) + ")";
    } else if (c.entity == EntityKind::kAttribute) {
      const char* column = ColumnOf(kModelVersionColumns, c.key);
      if (column == nullptr) return Unsupported(c, "attribute");
      if (c.numeric) {
        // Version numbers and times are integers (the engine refuses fractions).
        binds->emplace_back(static_cast<int64_t>(c.number_value));
        cond = std::string(column) + " " + OpSql(c.comparator) + " ?";
      } else {
        cond = StringCondition(column, c, binds);
      }
    } else {
      return Unsupported(c, "entity");
    }
    sql += " AND " + cond;
  }
  return sql;
}

Result<std::string> CompileModelVersionOrderBy(const OrderBy& o) {
  if (o.entity == EntityKind::kAttribute) {
    if (const char* col = ColumnOf(kModelVersionColumns, o.key)) {
      return std::string(col) + (o.ascending ? " ASC" : " DESC");
    }
  }
  return InvalidArgument("Invalid order by key '" + o.key + "' for model versions");
}

}  // namespace plinth::store
