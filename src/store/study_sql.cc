#include "store/study_sql.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <utility>

#include "core/json.h"

namespace plinth::store {

std::string_view StoredTrialStateName(StoredTrialState s) {
  switch (s) {
    case StoredTrialState::kRunning:
      return "RUNNING";
    case StoredTrialState::kComplete:
      return "COMPLETE";
    case StoredTrialState::kPruned:
      return "PRUNED";
    case StoredTrialState::kFail:
      return "FAIL";
    case StoredTrialState::kWaiting:
      return "WAITING";
  }
  return "FAIL";
}

std::optional<StoredTrialState> ParseStoredTrialState(std::string_view name) {
  for (auto s : {StoredTrialState::kRunning, StoredTrialState::kComplete, StoredTrialState::kPruned,
                 StoredTrialState::kFail, StoredTrialState::kWaiting}) {
    if (StoredTrialStateName(s) == name) return s;
  }
  return std::nullopt;
}

namespace study_sql {
namespace {

constexpr const char* kStudySelect =
    "SELECT study_id, name, experiment_id, directions, search_space, sampler, pruner, options, "
    "creation_time FROM studies";

constexpr const char* kTrialSelect =
    "SELECT trial_id, study_id, number, state, run_id, fixed_params, retry_of, start_time, "
    "complete_time, heartbeat_time FROM trials";

std::string Name(StoredTrialState s) { return std::string(StoredTrialStateName(s)); }

Status StudyNotFound(int64_t id) {
  return NotFound("Study with id " + std::to_string(id) + " not found");
}
Status TrialNotFound(int64_t id) {
  return NotFound("Trial with id " + std::to_string(id) + " not found");
}

// A REAL cell as text: both sessions write the shortest round-trip form, PostgreSQL also
// "Infinity"/"-Infinity", which strtod reads.
double ParseReal(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

std::vector<std::string> SplitDirections(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string JoinDirections(const std::vector<std::string>& directions) {
  std::string out;
  for (const std::string& d : directions) out += (out.empty() ? "" : ",") + d;
  return out;
}

StudyRecord StudyFromRow(const SqlRows& r, size_t i) {
  StudyRecord st;
  st.study_id = r.Int64(i, 0);
  st.name = r.Text(i, 1);
  st.experiment_id = r.Text(i, 2);
  st.directions = SplitDirections(r.Text(i, 3));
  st.search_space_json = r.Text(i, 4);
  st.sampler_json = r.Text(i, 5);
  st.pruner_json = r.Text(i, 6);
  st.options_json = r.Text(i, 7);
  st.creation_time = r.Int64(i, 8);
  return st;
}

TrialRecord TrialFromRow(const SqlRows& r, size_t i) {
  TrialRecord t;
  t.trial_id = r.Int64(i, 0);
  t.study_id = r.Int64(i, 1);
  t.number = r.Int64(i, 2);
  t.state = ParseStoredTrialState(r.Text(i, 3)).value_or(StoredTrialState::kFail);
  t.run_id = r.Text(i, 4);
  t.fixed_params_json = r.Text(i, 5);
  t.retry_of = r.OptInt64(i, 6);
  t.start_time = r.OptInt64(i, 7);
  t.complete_time = r.OptInt64(i, 8);
  t.heartbeat_time = r.OptInt64(i, 9);
  return t;
}

Status LoadStudyAttrs(SqlSession& s, StudyRecord* study) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run("SELECT key, value FROM study_user_attrs WHERE study_id=? ORDER BY key",
                       {study->study_id}));
  for (size_t i = 0; i < r.size(); ++i) study->user_attrs.push_back({r.Text(i, 0), r.Text(i, 1)});
  return Status::Ok();
}

// Fills params, values and intermediate values (and user attributes when `attrs`) of `trials`,
// selected by `where` ("t.study_id=?" or "t.trial_id IN (…)") with `args`.
Status LoadChildren(SqlSession& s, const std::string& where, const std::vector<SqlArg>& args,
                    bool attrs, std::vector<TrialRecord>* trials) {
  if (trials->empty()) return Status::Ok();
  std::map<int64_t, TrialRecord*> by_id;
  for (TrialRecord& t : *trials) by_id[t.trial_id] = &t;
  auto each = [&](const std::string& sql, auto&& fill) -> Status {
    PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, args, /*cached=*/false));
    for (size_t i = 0; i < r.size(); ++i) {
      auto it = by_id.find(r.Int64(i, 0));
      if (it != by_id.end()) fill(r, i, it->second);
    }
    return Status::Ok();
  };
  PLINTH_RETURN_IF_ERROR(each(
      "SELECT p.trial_id, p.name, p.value, p.external, p.distribution FROM trial_params p "
      "JOIN trials t ON t.trial_id=p.trial_id WHERE " +
          where + " ORDER BY p.trial_id, p.seq",
      [](const SqlRows& r, size_t i, TrialRecord* t) {
        t->params.push_back({r.Text(i, 1), ParseReal(r.Text(i, 2)), r.Text(i, 3), r.Text(i, 4)});
      }));
  PLINTH_RETURN_IF_ERROR(
      each("SELECT v.trial_id, v.value FROM trial_values v JOIN trials t ON "
           "t.trial_id=v.trial_id WHERE " +
               where + " ORDER BY v.trial_id, v.objective",
           [](const SqlRows& r, size_t i, TrialRecord* t) {
             t->values.push_back(ParseReal(r.Text(i, 1)));
           }));
  PLINTH_RETURN_IF_ERROR(
      each("SELECT v.trial_id, v.step, v.value FROM trial_intermediate_values v JOIN trials t ON "
           "t.trial_id=v.trial_id WHERE " +
               where + " ORDER BY v.trial_id, v.step",
           [](const SqlRows& r, size_t i, TrialRecord* t) {
             double value = r.IsNull(i, 2) ? std::nan("") : ParseReal(r.Text(i, 2));
             t->intermediate_values.emplace_back(r.Int64(i, 1), value);
           }));
  PLINTH_RETURN_IF_ERROR(
      each("SELECT a.trial_id, a.key, a.value FROM trial_system_attrs a JOIN trials t ON "
           "t.trial_id=a.trial_id WHERE " +
               where + " ORDER BY a.trial_id, a.key",
           [](const SqlRows& r, size_t i, TrialRecord* t) {
             t->system_attrs.push_back({r.Text(i, 1), r.Text(i, 2)});
           }));
  if (attrs) {
    PLINTH_RETURN_IF_ERROR(
        each("SELECT a.trial_id, a.key, a.value FROM trial_user_attrs a JOIN trials t ON "
             "t.trial_id=a.trial_id WHERE " +
                 where + " ORDER BY a.trial_id, a.key",
             [](const SqlRows& r, size_t i, TrialRecord* t) {
               t->user_attrs.push_back({r.Text(i, 1), r.Text(i, 2)});
             }));
  }
  return Status::Ok();
}

Result<TrialRecord> LoadTrial(SqlSession& s, int64_t trial_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run(std::string(kTrialSelect) + " WHERE trial_id=?", {trial_id}));
  if (r.empty()) return TrialNotFound(trial_id);
  std::vector<TrialRecord> one{TrialFromRow(r, 0)};
  PLINTH_RETURN_IF_ERROR(LoadChildren(s, "t.trial_id=?", {trial_id}, true, &one));
  return std::move(one[0]);
}

// Locks the study's row until commit (PostgreSQL; SQLite's one writer needs no lock) and
// returns the next trial number. Failure: kNotFound.
Result<int64_t> LockStudy(SqlSession& s, int64_t study_id) {
  std::string sql = "SELECT next_number FROM studies WHERE study_id=?";
  if (s.dialect() == SqlDialect::kPostgres) sql += " FOR UPDATE";
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  return r.Int64(0, 0);
}

// Takes the next number of a locked study.
Result<int64_t> TakeNumber(SqlSession& s, int64_t study_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run("UPDATE studies SET next_number=next_number+1 WHERE study_id=? "
                                "RETURNING next_number",
                                {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  return r.Int64(0, 0) - 1;
}

// Bumps the study's change counter (study_store.h, StudyVersion) and marks `trial_id` changed
// at the new version. Called first in a trial write so the study's row is locked before any
// trial row, as everywhere else. Failure: kNotFound.
Status BumpVersion(SqlSession& s, int64_t study_id, int64_t trial_id) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("UPDATE studies SET version=version+1 WHERE study_id=? RETURNING version", {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  return s.Run("UPDATE trials SET version=? WHERE trial_id=?", {r.Int64(0, 0), trial_id}).status();
}

// The same for a trial known by id only. Failure: kNotFound for the trial.
Status BumpTrialVersion(SqlSession& s, int64_t trial_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run("UPDATE studies SET version=version+1 WHERE "
                                           "study_id=(SELECT study_id FROM trials WHERE "
                                           "trial_id=?) RETURNING version",
                                           {trial_id}));
  if (r.empty()) return TrialNotFound(trial_id);
  return s.Run("UPDATE trials SET version=? WHERE trial_id=?", {r.Int64(0, 0), trial_id}).status();
}

// The trial's state, or kNotFound.
Result<StoredTrialState> StateOf(SqlSession& s, int64_t trial_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run("SELECT state FROM trials WHERE trial_id=?", {trial_id}));
  if (r.empty()) return TrialNotFound(trial_id);
  return ParseStoredTrialState(r.Text(0, 0)).value_or(StoredTrialState::kFail);
}

Status NotRunning(int64_t trial_id, StoredTrialState state) {
  return FailedPrecondition("Trial with id " + std::to_string(trial_id) + " is " + Name(state) +
                            ", not RUNNING: it cannot be changed.");
}

// kOk when the trial is RUNNING; else kNotFound or kFailedPrecondition.
Status CheckRunning(SqlSession& s, int64_t trial_id) {
  PLINTH_ASSIGN_OR_RETURN(StoredTrialState state, StateOf(s, trial_id));
  return state == StoredTrialState::kRunning ? Status::Ok() : NotRunning(trial_id, state);
}

Status TouchHeartbeat(SqlSession& s, int64_t trial_id, int64_t now) {
  return s.Run("UPDATE trials SET heartbeat_time=? WHERE trial_id=?", {now, trial_id}).status();
}

Result<std::vector<int64_t>> CountByState(SqlSession& s, int64_t study_id) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("SELECT state, COUNT(*) FROM trials WHERE study_id=? GROUP BY state", {study_id}));
  std::vector<int64_t> counts(5, 0);
  for (size_t i = 0; i < r.size(); ++i) {
    if (auto state = ParseStoredTrialState(r.Text(i, 0))) {
      counts[static_cast<size_t>(*state)] = r.Int64(i, 1);
    }
  }
  return counts;
}

int64_t Count(const std::vector<int64_t>& counts, StoredTrialState s) {
  return counts[static_cast<size_t>(s)];
}

}  // namespace

// ------------------------------------------------------------------ studies

Result<int64_t> CreateStudy(SqlSession& s, const StudyRecord& study, bool retry) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("INSERT INTO studies (name, experiment_id, directions, search_space, sampler, pruner, "
            "options, creation_time, next_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) "
            "ON CONFLICT (name) DO NOTHING RETURNING study_id",
            {study.name, study.experiment_id, JoinDirections(study.directions),
             study.search_space_json, study.sampler_json, study.pruner_json, study.options_json,
             study.creation_time}));
  if (r.empty()) {
    if (retry) {
      // After a lost COMMIT answer, the study that exists is ours when it was made at our time.
      PLINTH_ASSIGN_OR_RETURN(SqlRows mine,
                              s.Run("SELECT study_id FROM studies WHERE name=? AND creation_time=?",
                                    {study.name, study.creation_time}));
      if (!mine.empty()) return mine.Int64(0, 0);
    }
    return AlreadyExists("Study '" + study.name + "' already exists.");
  }
  const int64_t id = r.Int64(0, 0);
  for (const KeyValue& attr : study.user_attrs) {
    PLINTH_RETURN_IF_ERROR(SetStudyUserAttr(s, id, attr));
  }
  return id;
}

Result<StudyRecord> GetStudy(SqlSession& s, int64_t study_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run(std::string(kStudySelect) + " WHERE study_id=?", {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  StudyRecord st = StudyFromRow(r, 0);
  PLINTH_RETURN_IF_ERROR(LoadStudyAttrs(s, &st));
  return st;
}

Result<StudyRecord> GetStudyByName(SqlSession& s, const std::string& name) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(std::string(kStudySelect) + " WHERE name=?", {name}));
  if (r.empty()) return NotFound("Study '" + name + "' not found");
  StudyRecord st = StudyFromRow(r, 0);
  PLINTH_RETURN_IF_ERROR(LoadStudyAttrs(s, &st));
  return st;
}

Result<std::vector<StudyRecord>> ListStudies(SqlSession& s, int64_t max_results, int64_t offset,
                                             bool* has_more) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run(std::string(kStudySelect) + " ORDER BY study_id LIMIT ? OFFSET ?",
                                {max_results + 1, offset}));
  std::vector<StudyRecord> out;
  *has_more = false;
  for (size_t i = 0; i < r.size(); ++i) {
    if (static_cast<int64_t>(i) == max_results) {
      *has_more = true;
      break;
    }
    out.push_back(StudyFromRow(r, i));
    PLINTH_RETURN_IF_ERROR(LoadStudyAttrs(s, &out.back()));
  }
  return out;
}

Status SetStudyUserAttr(SqlSession& s, int64_t study_id, const KeyValue& attr) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run("SELECT 1 FROM studies WHERE study_id=?", {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  return s
      .Run(
          "INSERT INTO study_user_attrs (study_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT (study_id, key) DO UPDATE SET value=excluded.value",
          {study_id, attr.key, attr.value})
      .status();
}

Result<std::vector<int64_t>> CountTrials(SqlSession& s, int64_t study_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run("SELECT 1 FROM studies WHERE study_id=?", {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  return CountByState(s, study_id);
}

// ------------------------------------------------------------------ trials

Result<AskResult> AskTrial(SqlSession& s, int64_t study_id, std::optional<int64_t> max_trials,
                           int64_t now) {
  PLINTH_RETURN_IF_ERROR(LockStudy(s, study_id).status());
  AskResult out;
  if (max_trials) {
    PLINTH_ASSIGN_OR_RETURN(std::vector<int64_t> counts, CountByState(s, study_id));
    const int64_t finished =
        Count(counts, StoredTrialState::kComplete) + Count(counts, StoredTrialState::kPruned);
    if (finished >= *max_trials) {
      out.study_done = true;
      return out;
    }
    // Running trials hold their place in the budget; one that fails frees it.
    if (finished + Count(counts, StoredTrialState::kRunning) >= *max_trials) return out;
  }
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows waiting,
      s.Run("SELECT trial_id FROM trials WHERE study_id=? AND state=? ORDER BY number LIMIT 1",
            {study_id, Name(StoredTrialState::kWaiting)}));
  int64_t trial_id = 0;
  if (!waiting.empty()) {
    trial_id = waiting.Int64(0, 0);
    PLINTH_RETURN_IF_ERROR(s.Run("UPDATE trials SET state=?, start_time=?, heartbeat_time=? "
                                 "WHERE trial_id=?",
                                 {Name(StoredTrialState::kRunning), now, now, trial_id})
                               .status());
  } else {
    PLINTH_ASSIGN_OR_RETURN(int64_t number, TakeNumber(s, study_id));
    PLINTH_ASSIGN_OR_RETURN(
        SqlRows r,
        s.Run("INSERT INTO trials (study_id, number, state, start_time, heartbeat_time) VALUES "
              "(?, ?, ?, ?, ?) RETURNING trial_id",
              {study_id, number, Name(StoredTrialState::kRunning), now, now}));
    trial_id = r.Int64(0, 0);
  }
  PLINTH_RETURN_IF_ERROR(BumpVersion(s, study_id, trial_id));
  PLINTH_ASSIGN_OR_RETURN(TrialRecord trial, LoadTrial(s, trial_id));
  out.trial = std::move(trial);
  return out;
}

Result<TrialRecord> EnqueueTrial(SqlSession& s, int64_t study_id,
                                 const std::string& fixed_params_json,
                                 std::optional<int64_t> retry_of, int64_t now) {
  (void)now;  // a WAITING trial has no start time yet
  PLINTH_RETURN_IF_ERROR(LockStudy(s, study_id).status());
  PLINTH_ASSIGN_OR_RETURN(int64_t number, TakeNumber(s, study_id));
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run("INSERT INTO trials (study_id, number, state, fixed_params, retry_of) "
                       "VALUES (?, ?, ?, ?, ?) RETURNING trial_id",
                       {study_id, number, Name(StoredTrialState::kWaiting),
                        fixed_params_json.empty() ? std::string("{}") : fixed_params_json,
                        OptionalInt(retry_of)}));
  PLINTH_RETURN_IF_ERROR(BumpVersion(s, study_id, r.Int64(0, 0)));
  return LoadTrial(s, r.Int64(0, 0));
}

Result<TrialRecord> GetTrial(SqlSession& s, int64_t trial_id) { return LoadTrial(s, trial_id); }

Result<TrialRecord> GetTrialByNumber(SqlSession& s, int64_t study_id, int64_t number) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("SELECT trial_id FROM trials WHERE study_id=? AND number=?", {study_id, number}));
  if (r.empty()) {
    return NotFound("Trial " + std::to_string(number) + " of study " + std::to_string(study_id) +
                    " not found");
  }
  return LoadTrial(s, r.Int64(0, 0));
}

Result<std::vector<TrialRecord>> LoadTrials(SqlSession& s, int64_t study_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows exists,
                          s.Run("SELECT 1 FROM studies WHERE study_id=?", {study_id}));
  if (exists.empty()) return StudyNotFound(study_id);
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run(std::string(kTrialSelect) + " WHERE study_id=? ORDER BY number", {study_id}));
  std::vector<TrialRecord> trials;
  trials.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) trials.push_back(TrialFromRow(r, i));
  PLINTH_RETURN_IF_ERROR(LoadChildren(s, "t.study_id=?", {study_id}, false, &trials));
  return trials;
}

Result<int64_t> StudyVersion(SqlSession& s, int64_t study_id) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run("SELECT version FROM studies WHERE study_id=?", {study_id}));
  if (r.empty()) return StudyNotFound(study_id);
  return r.Int64(0, 0);
}

Result<TrialChanges> LoadTrialsSince(SqlSession& s, int64_t study_id, int64_t since) {
  // The version first: on PostgreSQL each statement may see later commits, and a trial read in
  // a newer state than `version` is only loaded again next time, while every change up to
  // `version` was committed before it could be read (versions are taken under a row lock).
  TrialChanges out;
  PLINTH_ASSIGN_OR_RETURN(out.version, StudyVersion(s, study_id));
  if (since >= 0 && out.version <= since) return out;
  // From -1: every trial, those written before the counter existed (version 0) too.
  const std::string where = since >= 0 ? "t.study_id=? AND t.version>?" : "t.study_id=?";
  std::vector<SqlArg> args{study_id};
  if (since >= 0) args.emplace_back(since);
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run(std::string(kTrialSelect) + " t WHERE " + where + " ORDER BY number", args));
  out.trials.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.trials.push_back(TrialFromRow(r, i));
  PLINTH_RETURN_IF_ERROR(LoadChildren(s, where, args, false, &out.trials));
  return out;
}

Result<TrialPage> ListTrials(SqlSession& s, const TrialListRequest& request) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows exists,
                          s.Run("SELECT 1 FROM studies WHERE study_id=?", {request.study_id}));
  if (exists.empty()) return StudyNotFound(request.study_id);
  std::string sql = std::string(kTrialSelect) + " WHERE study_id=?";
  std::vector<SqlArg> args{request.study_id};
  if (!request.states.empty()) {
    sql += " AND state IN (";
    for (size_t i = 0; i < request.states.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      args.emplace_back(Name(request.states[i]));
    }
    sql += ")";
  }
  sql += " ORDER BY number LIMIT ? OFFSET ?";
  args.emplace_back(request.max_results + 1);
  args.emplace_back(request.offset);
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, args, /*cached=*/false));
  TrialPage page;
  std::string ids;
  for (size_t i = 0; i < r.size(); ++i) {
    if (static_cast<int64_t>(i) == request.max_results) {
      page.has_more = true;
      break;
    }
    page.trials.push_back(TrialFromRow(r, i));
    ids += (ids.empty() ? "" : ",") + std::to_string(page.trials.back().trial_id);
  }
  if (!page.trials.empty()) {
    // Integer ids written into the SQL (integers only, so no injection).
    PLINTH_RETURN_IF_ERROR(LoadChildren(s, "t.trial_id IN (" + ids + ")", {}, true, &page.trials));
  }
  return page;
}

Status SetTrialParams(SqlSession& s, int64_t trial_id, const std::vector<TrialParamRecord>& params,
                      const std::string& run_id, int64_t now) {
  PLINTH_RETURN_IF_ERROR(BumpTrialVersion(s, trial_id));
  PLINTH_RETURN_IF_ERROR(CheckRunning(s, trial_id));
  PLINTH_ASSIGN_OR_RETURN(SqlRows seq,
                          s.Run("SELECT COUNT(*) FROM trial_params WHERE trial_id=?", {trial_id}));
  int64_t next = seq.Int64(0, 0);
  for (const TrialParamRecord& p : params) {
    PLINTH_ASSIGN_OR_RETURN(
        SqlRows r,
        s.Run("INSERT INTO trial_params (trial_id, name, seq, value, external, distribution) "
              "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (trial_id, name) DO NOTHING",
              {trial_id, p.name, next, p.internal, p.external_json, p.distribution_json}));
    if (r.affected() > 0) ++next;
  }
  if (!run_id.empty()) {
    PLINTH_RETURN_IF_ERROR(
        s.Run("UPDATE trials SET run_id=? WHERE trial_id=?", {run_id, trial_id}).status());
  }
  return TouchHeartbeat(s, trial_id, now);
}

Status ReportIntermediate(SqlSession& s, int64_t trial_id, int64_t step, double value,
                          int64_t now) {
  PLINTH_RETURN_IF_ERROR(BumpTrialVersion(s, trial_id));
  PLINTH_RETURN_IF_ERROR(CheckRunning(s, trial_id));
  // NaN is stored as NULL on both backends (SQLite cannot store it).
  SqlArg stored = std::isnan(value) ? SqlArg() : SqlArg(value);
  PLINTH_RETURN_IF_ERROR(s.Run("INSERT INTO trial_intermediate_values (trial_id, step, value) "
                               "VALUES (?, ?, ?) ON CONFLICT (trial_id, step) DO NOTHING",
                               {trial_id, step, stored})
                             .status());
  return TouchHeartbeat(s, trial_id, now);
}

Status Heartbeat(SqlSession& s, int64_t trial_id, int64_t now) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r,
                          s.Run("UPDATE trials SET heartbeat_time=? WHERE trial_id=? AND state=?",
                                {now, trial_id, Name(StoredTrialState::kRunning)}));
  if (r.affected() > 0) return Status::Ok();
  return CheckRunning(s, trial_id);
}

Status FinishTrial(SqlSession& s, int64_t trial_id, const TrialFinish& finish, bool retry) {
  PLINTH_RETURN_IF_ERROR(BumpTrialVersion(s, trial_id));
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("UPDATE trials SET state=?, complete_time=?, heartbeat_time=? WHERE trial_id=? AND "
            "state=?",
            {Name(finish.state), finish.now, finish.now, trial_id,
             Name(StoredTrialState::kRunning)}));
  if (r.affected() == 0) {
    PLINTH_ASSIGN_OR_RETURN(StoredTrialState state, StateOf(s, trial_id));
    // On a retry after a lost COMMIT answer, a trial already in the told state is our work.
    if (retry && state == finish.state) return Status::Ok();
    return NotRunning(trial_id, state);
  }
  for (size_t i = 0; i < finish.values.size(); ++i) {
    PLINTH_RETURN_IF_ERROR(
        s.Run("INSERT INTO trial_values (trial_id, objective, value) VALUES (?, ?, ?)",
              {trial_id, static_cast<int64_t>(i), finish.values[i]})
            .status());
  }
  return Status::Ok();
}

Status SetTrialUserAttr(SqlSession& s, int64_t trial_id, const KeyValue& attr) {
  PLINTH_RETURN_IF_ERROR(StateOf(s, trial_id).status());
  return s
      .Run(
          "INSERT INTO trial_user_attrs (trial_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT (trial_id, key) DO UPDATE SET value=excluded.value",
          {trial_id, attr.key, attr.value})
      .status();
}

Status SetTrialSystemAttr(SqlSession& s, int64_t trial_id, const KeyValue& attr) {
  PLINTH_RETURN_IF_ERROR(BumpTrialVersion(s, trial_id));
  return s
      .Run(
          "INSERT INTO trial_system_attrs (trial_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT (trial_id, key) DO UPDATE SET value=excluded.value",
          {trial_id, attr.key, attr.value})
      .status();
}

Result<std::vector<TrialRecord>> FailStaleTrials(SqlSession& s, int64_t study_id,
                                                 int64_t heartbeat_before, int64_t now,
                                                 bool retry_failed) {
  PLINTH_RETURN_IF_ERROR(LockStudy(s, study_id).status());
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows stale,
      s.Run("UPDATE trials SET state=?, complete_time=? WHERE study_id=? AND state=? AND "
            "heartbeat_time<? RETURNING trial_id",
            {Name(StoredTrialState::kFail), now, study_id, Name(StoredTrialState::kRunning),
             heartbeat_before}));
  std::vector<TrialRecord> failed;
  for (size_t i = 0; i < stale.size(); ++i) {
    PLINTH_RETURN_IF_ERROR(BumpVersion(s, study_id, stale.Int64(i, 0)));
    PLINTH_ASSIGN_OR_RETURN(TrialRecord t, LoadTrial(s, stale.Int64(i, 0)));
    failed.push_back(std::move(t));
  }
  std::sort(failed.begin(), failed.end(),
            [](const TrialRecord& a, const TrialRecord& b) { return a.number < b.number; });
  if (retry_failed) {
    for (const TrialRecord& t : failed) {
      // The same parameters, as Optuna's RetryFailedTrialCallback re-enqueues them.
      JsonWriter w;
      w.StartObject();
      for (const TrialParamRecord& p : t.params) {
        w.Key(p.name);
        w.Raw(p.external_json);
      }
      w.EndObject();
      PLINTH_RETURN_IF_ERROR(EnqueueTrial(s, study_id, w.Take(), t.number, now).status());
    }
  }
  return failed;
}

}  // namespace study_sql
}  // namespace plinth::store
