// The UI's only data source: the public MLflow REST API of the server that served the page.
// Paths are relative so the UI also works behind a reverse proxy that adds a prefix.

const BASE = "api/2.0/mlflow/";
const REGISTRY = "api/plinth/v1/registry/";
const ARTIFACTS = "api/2.0/mlflow-artifacts/artifacts/";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit, base = BASE): Promise<T> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  let body: any = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text };
  }
  if (!res.ok) {
    throw new ApiError(res.status, body.error_code ?? "", body.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

type Params = Record<string, string | number | string[] | undefined>;

function get<T>(path: string, params: Params, base = BASE): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else if (v !== undefined && v !== "") q.set(k, String(v));
  }
  return call<T>(`${path}?${q}`, undefined, base);
}

function post<T>(path: string, body: object, base = BASE): Promise<T> {
  return call<T>(
    path,
    {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    },
    base,
  );
}

export interface KeyValue {
  key: string;
  value: string;
}
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  creation_time?: number;
  last_update_time?: number;
  tags?: KeyValue[];
}
export interface RunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  status?: string;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}
export interface DatasetInput {
  tags?: KeyValue[];
  dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string; profile?: string };
}
export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
}
export interface FileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

export async function searchExperiments(pageToken?: string) {
  return post<{ experiments?: Experiment[]; next_page_token?: string }>("experiments/search", {
    max_results: 1000,
    order_by: ["last_update_time DESC"],
    page_token: pageToken,
  });
}

export async function getExperiment(id: string) {
  const r = await get<{ experiment: Experiment }>("experiments/get", { experiment_id: id });
  return r.experiment;
}

export async function searchRuns(req: {
  experimentId: string;
  filter: string;
  orderBy: string[];
  maxResults: number;
  pageToken?: string;
}) {
  return post<{ runs?: Run[]; next_page_token?: string }>("runs/search", {
    experiment_ids: [req.experimentId],
    filter: req.filter,
    order_by: req.orderBy,
    max_results: req.maxResults,
    page_token: req.pageToken,
    run_view_type: "ACTIVE_ONLY",
  });
}

export async function getRun(runId: string) {
  const r = await get<{ run: Run }>("runs/get", { run_id: runId });
  return r.run;
}

// One page (up to 25,000 points) of a metric's history.
export function metricHistoryPage(runId: string, key: string, pageToken?: string) {
  return get<{ metrics?: Metric[]; next_page_token?: string }>("metrics/get-history", {
    run_id: runId,
    metric_key: key,
    max_results: 25000,
    page_token: pageToken,
  });
}

// The server's even sample of a metric's history (MLflow's get-history-bulk-interval): at most
// `maxResults` points per run (MLflow caps it at 2,500), first and last kept; the whole history
// when it is no longer than that.
export async function metricHistorySample(runIds: string[], key: string, maxResults: number) {
  const r = await get<{ metrics?: (Metric & { run_id: string })[] }>("metrics/get-history-bulk-interval", {
    run_ids: runIds,
    metric_key: key,
    max_results: maxResults,
  });
  return r.metrics ?? [];
}

export async function listArtifacts(runId: string, path?: string) {
  const r = await get<{ root_uri?: string; files?: FileInfo[] }>("artifacts/list", {
    run_id: runId,
    path,
  });
  return r;
}

export async function setRunTag(runId: string, key: string, value: string) {
  await post<{}>("runs/set-tag", { run_id: runId, key, value });
}

// ------------------------------------------------------------------ artifacts

// Where the artifact proxy serves a run's file, or null when the run's artifacts do not live
// behind this server's proxy (mlflow-artifacts: URIs only).
export function artifactUrl(artifactUri: string | undefined, path: string): string | null {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri ?? "");
  if (!m) return null;
  const root = m[1].replace(/\/+$/, "");
  return ARTIFACTS + [...root.split("/"), ...path.split("/")].filter(Boolean).map(encodeURIComponent).join("/");
}

// The first `limit` bytes of a file (a Range request), and whether there was more.
export async function fetchHead(url: string, limit: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const res = await fetch(url, { headers: { Range: `bytes=0-${limit - 1}` } });
  if (res.status === 416) return { bytes: new Uint8Array(), truncated: false };
  if (!res.ok) throw new ApiError(res.status, "", `HTTP ${res.status} fetching the artifact`);
  const buf = new Uint8Array(await res.arrayBuffer());
  const total = Number(/\/(\d+)$/.exec(res.headers.get("Content-Range") ?? "")?.[1] ?? buf.length);
  return { bytes: buf.subarray(0, limit), truncated: total > limit || buf.length > limit };
}

// ------------------------------------------------------------------ model registry

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
}
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  tags?: KeyValue[];
  aliases?: string[];
}
export interface AliasEvent {
  event_id: number;
  alias: string;
  version?: string;
  previous_version?: string;
  action: string;
  user_id?: string;
  timestamp: number;
}

// A string literal of MLflow's filter grammar (a quote inside is doubled, as sqlparse reads it).
export const quoteString = (s: string) => "'" + s.replace(/'/g, "''") + "'";

export async function searchRegisteredModels(filter: string, pageToken?: string) {
  return get<{ registered_models?: RegisteredModel[]; next_page_token?: string }>("registered-models/search", {
    filter,
    max_results: 1000,
    order_by: ["name ASC"],
    page_token: pageToken,
  });
}

export async function getRegisteredModel(name: string) {
  return (await get<{ registered_model: RegisteredModel }>("registered-models/get", { name })).registered_model;
}

// Every version matching a filter, newest first, following page tokens (up to `cap`).
export async function searchModelVersions(filter: string, cap = 10000): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  let token: string | undefined;
  do {
    const r = await get<{ model_versions?: ModelVersion[]; next_page_token?: string }>("model-versions/search", {
      filter,
      max_results: 1000,
      order_by: ["version_number DESC"],
      page_token: token,
    });
    out.push(...(r.model_versions ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < cap);
  return out;
}

export async function getModelVersion(name: string, version: string) {
  return (await get<{ model_version: ModelVersion }>("model-versions/get", { name, version })).model_version;
}

export async function aliasHistory(name: string, alias?: string) {
  return (await get<{ events?: AliasEvent[] }>("alias-history", { name, alias }, REGISTRY)).events ?? [];
}

export interface AliasMove {
  alias: string;
  previous_version?: string;
  version: string;
}

export async function promote(name: string, version: string, alias: string, user: string) {
  return post<AliasMove>("promote", { name, version, alias, user: user || undefined }, REGISTRY);
}

export async function rollback(name: string, alias: string, user: string) {
  return post<AliasMove>("rollback", { name, alias, user: user || undefined }, REGISTRY);
}

export async function lineage(name: string, version: string) {
  return get<{ model_version: ModelVersion; run?: Run; run_missing?: string }>("lineage", { name, version }, REGISTRY);
}

// ------------------------------------------------------------------ studies (plinth tune)

const STUDIES = "api/plinth/v1/studies/";
const DATASETS = "api/plinth/v1/datasets/";
const PLINTH = "api/plinth/v1/";

export type ParamValue = number | string | boolean | null;
export interface Distribution {
  type?: string; // float, int, categorical (or Optuna's JSON form, name + attributes)
  low?: number;
  high?: number;
  log?: boolean;
  step?: number;
  choices?: ParamValue[];
  [k: string]: unknown;
}
export interface Study {
  study_id: number;
  name: string;
  experiment_id: string;
  directions: string[];
  search_space?: Record<string, Distribution>;
  sampler?: { type?: string; [k: string]: unknown };
  pruner?: { type?: string; [k: string]: unknown };
  n_trials?: number;
  metric_names?: string[];
  user_attrs?: Record<string, unknown>;
  creation_time?: number;
  trial_counts?: Record<string, number>;
}
export type TrialState = "RUNNING" | "COMPLETE" | "PRUNED" | "FAIL" | "WAITING";
export interface Trial {
  trial_id: number;
  study_id: number;
  number: number;
  state: TrialState;
  value?: number | string; // "NaN"/"Infinity" come as strings
  values?: (number | string)[];
  params: Record<string, ParamValue>;
  distributions?: Record<string, Distribution>;
  intermediate_values?: { step: number; value: number | string }[];
  user_attrs?: Record<string, unknown>;
  run_id?: string;
  start_time?: number;
  complete_time?: number;
  heartbeat_time?: number;
}

// Every study, following page tokens.
export async function listStudies(cap = 10000): Promise<Study[]> {
  const out: Study[] = [];
  let token: string | undefined;
  do {
    const r = await get<{ studies?: Study[]; next_page_token?: string }>("list", { max_results: 1000, page_token: token }, STUDIES);
    out.push(...(r.studies ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < cap);
  return out;
}

export async function getStudy(name: string) {
  return (await get<{ study: Study }>("get", { study_name: name }, STUDIES)).study;
}

// The best trial (one objective) or the Pareto front (several).
export async function bestTrials(name: string) {
  return (await get<{ best_trials?: Trial[] }>("best", { study_name: name }, STUDIES)).best_trials ?? [];
}

// Every trial of a study in number order (pages of 10,000, up to `cap`).
export async function listTrials(studyId: number, cap = 100000): Promise<Trial[]> {
  const out: Trial[] = [];
  let token: string | undefined;
  do {
    const r = await get<{ trials?: Trial[]; next_page_token?: string }>(
      "trials",
      { study_id: studyId, max_results: 10000, page_token: token },
      STUDIES,
    );
    out.push(...(r.trials ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < cap);
  return out;
}

// ------------------------------------------------------------------ datasets (plinth data)

export interface DatasetSummary {
  name: string;
  latest_version: number;
  versions: number;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
}
export interface SchemaField {
  name: string;
  type: string;
  nullable?: boolean;
}
export interface ColumnProfile {
  name: string;
  type: string;
  count: number;
  null_count: number;
  distinct_estimate?: number;
  min?: number | string | null;
  max?: number | string | null;
  mean?: number | null;
  std?: number | null;
  numeric_count?: number;
  infinite_count?: number;
  true_count?: number;
  min_length?: number;
  max_length?: number;
  mean_length?: number | null;
  quantiles?: Record<string, number>;
  histogram?: { edges: number[]; counts: number[] };
  top_values?: { value: string; count: number }[];
  top_values_exact?: boolean;
}
export interface Profile {
  row_count?: number;
  column_count?: number;
  columns?: ColumnProfile[];
}
export interface ExpectationResult {
  success: boolean;
  expectation_config?: { expectation_type: string; kwargs?: Record<string, unknown> };
  result?: {
    observed_value?: unknown;
    element_count?: number;
    missing_count?: number;
    unexpected_count?: number;
    unexpected_percent?: number;
    partial_unexpected_list?: unknown[];
    partial_unexpected_rows?: { row?: number; line?: number; value?: unknown }[];
  };
  exception_info?: { raised_exception?: boolean; exception_message?: string | null };
}
export interface Validation {
  success?: boolean;
  results?: ExpectationResult[];
  schema?: { success?: boolean; violations?: { row?: number; line?: number; column?: string; message?: string; [k: string]: unknown }[] };
  statistics?: { evaluated_expectations?: number; successful_expectations?: number; unsuccessful_expectations?: number; success_percent?: number };
  meta?: Record<string, unknown>;
}
export interface DatasetVersion {
  name: string;
  version: number;
  digest: string;
  size_bytes: number;
  source?: string;
  storage_uri?: string;
  format?: string;
  num_rows?: number;
  num_columns?: number;
  schema?: SchemaField[];
  profile?: Profile;
  validation?: Validation;
  validation_success?: boolean;
  description?: string;
  user_id?: string;
  creation_timestamp?: number;
}
export interface ColumnDrift {
  test: string;
  statistic: number | null;
  p_value: number | null;
  score: number | null;
  threshold: number;
  drifted: boolean;
  column_type: "num" | "cat";
  default_test?: boolean;
  // Asked for with {distributions: true}: shares of the non-null values per bin (edges) or
  // category (labels), computed by the server from the data the tests ran on.
  distribution?: {
    kind: "histogram" | "categories";
    edges?: number[];
    labels?: string[];
    reference: number[];
    current: number[];
  };
}
export interface DriftReport {
  dataset_drift: boolean;
  drift_share: number;
  drift_share_threshold: number;
  number_of_columns: number;
  number_of_drifted_columns: number;
  reference_rows?: number;
  current_rows?: number;
  columns: Record<string, ColumnDrift>;
  skipped?: string[];
}

export async function listDatasets() {
  return (await get<{ datasets?: DatasetSummary[] }>("list", {}, DATASETS)).datasets ?? [];
}

// The versions of a dataset, newest first, without profiles and validation results.
export async function datasetVersions(name: string) {
  return (await get<{ dataset_versions?: DatasetVersion[] }>("versions", { name }, DATASETS)).dataset_versions ?? [];
}

// One version in full (profile, validation); the latest when `version` is omitted.
export async function getDatasetVersion(name: string, version?: number) {
  return (await get<{ dataset_version: DatasetVersion }>("get", { name, version }, DATASETS)).dataset_version;
}

// Drift between two stored versions ("name@v"), with the server's default tests.
export async function driftBetween(reference: string, current: string) {
  return post<DriftReport>("drift", { reference, current, distributions: true }, PLINTH);
}

// A missing route (an older plinth, or mlflow server) is a 404 with ENDPOINT_NOT_FOUND (or no
// MLflow-shaped body at all).
export function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501) &&
    (e.errorCode === "ENDPOINT_NOT_FOUND" || e.errorCode === "");
}
