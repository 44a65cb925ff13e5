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
