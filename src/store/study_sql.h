// The tuning tables' SQL, written once for both backends over SqlSession (sql_session.h). Each
// function is the body of one StudyStore method (study_store.h documents results and failures)
// and runs inside the caller's transaction: SqliteStore's group-commit job or read snapshot,
// PgStore's retried transaction. Internal to src/store/.
//
// Every write that hands out a trial number or changes which trials are RUNNING first locks the
// study's row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's single writer already serializes),
// always before any trial row, so concurrent asks, enqueues and heartbeat sweeps of one study
// queue behind each other instead of deadlocking. `retry`: an earlier attempt of the same
// PostgreSQL transaction may have committed before its answer was lost.
#ifndef PLINTH_STORE_STUDY_SQL_H_
#define PLINTH_STORE_STUDY_SQL_H_

#include <optional>
#include <string>
#include <vector>

#include "store/sql_session.h"
#include "store/study_store.h"

namespace plinth::store::study_sql {

Result<int64_t> CreateStudy(SqlSession& s, const StudyRecord& study, bool retry);
Result<StudyRecord> GetStudy(SqlSession& s, int64_t study_id);
Result<StudyRecord> GetStudyByName(SqlSession& s, const std::string& name);
Result<std::vector<StudyRecord>> ListStudies(SqlSession& s, int64_t max_results, int64_t offset,
                                             bool* has_more);
Status SetStudyUserAttr(SqlSession& s, int64_t study_id, const KeyValue& attr);
Result<std::vector<int64_t>> CountTrials(SqlSession& s, int64_t study_id);

Result<AskResult> AskTrial(SqlSession& s, int64_t study_id, std::optional<int64_t> max_trials,
                           int64_t now);
Result<TrialRecord> EnqueueTrial(SqlSession& s, int64_t study_id,
                                 const std::string& fixed_params_json,
                                 std::optional<int64_t> retry_of, int64_t now);
Result<TrialRecord> GetTrial(SqlSession& s, int64_t trial_id);
Result<TrialRecord> GetTrialByNumber(SqlSession& s, int64_t study_id, int64_t number);
Result<std::vector<TrialRecord>> LoadTrials(SqlSession& s, int64_t study_id);
Result<int64_t> StudyVersion(SqlSession& s, int64_t study_id);
Result<TrialChanges> LoadTrialsSince(SqlSession& s, int64_t study_id, int64_t since);
Result<TrialPage> ListTrials(SqlSession& s, const TrialListRequest& request);

Status SetTrialParams(SqlSession& s, int64_t trial_id, const std::vector<TrialParamRecord>& params,
                      const std::string& run_id, int64_t now);
Status ReportIntermediate(SqlSession& s, int64_t trial_id, int64_t step, double value, int64_t now);
Status Heartbeat(SqlSession& s, int64_t trial_id, int64_t now);
Status FinishTrial(SqlSession& s, int64_t trial_id, const TrialFinish& finish, bool retry);
Status SetTrialUserAttr(SqlSession& s, int64_t trial_id, const KeyValue& attr);
Status SetTrialSystemAttr(SqlSession& s, int64_t trial_id, const KeyValue& attr);
Result<std::vector<TrialRecord>> FailStaleTrials(SqlSession& s, int64_t study_id,
                                                 int64_t heartbeat_before, int64_t now,
                                                 bool retry_failed);

}  // namespace plinth::store::study_sql

#endif  // PLINTH_STORE_STUDY_SQL_H_
