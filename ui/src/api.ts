// The UI's only data source: the public MLflow REST API of the server that served the page.
// Paths are relative so the UI also works behind a reverse proxy that adds a prefix.

const BASE = "api/2.0/mlflow/";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(BASE + path, init);
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

function get<T>(path: string, params: Record<string, string | number | undefined>): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== "") q.set(k, String(v));
  }
  return call<T>(`${path}?${q}`);
}

function post<T>(path: string, body: object): Promise<T> {
  return call<T>(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
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
export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
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

// Every point of one metric, following page tokens.
export async function metricHistory(runId: string, key: string): Promise<Metric[]> {
  const out: Metric[] = [];
  let token: string | undefined;
  do {
    const r = await get<{ metrics?: Metric[]; next_page_token?: string }>("metrics/get-history", {
      run_id: runId,
      metric_key: key,
      max_results: 25000,
      page_token: token,
    });
    out.push(...(r.metrics ?? []));
    token = r.next_page_token || undefined;
  } while (token);
  return out;
}

export async function listArtifacts(runId: string, path?: string) {
  const r = await get<{ root_uri?: string; files?: FileInfo[] }>("artifacts/list", {
    run_id: runId,
    path,
  });
  return r;
}
