// The session (a JWT held in memory only, never in storage) and the calls every page makes.

export interface ApiError { status: number; error: string; message: string }

export interface Session {
  token: string; expiresAt: number; email: string; isRoot: boolean; org: string; orgs: OrgRole[];
}
export interface OrgRole { org: string; role: "admin" | "editor" | "viewer" | "ingester" }

let session: Session | null = null;
let renewal: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

export const getSession = () => session;
export function onSession(f: () => void) { listeners.add(f); return () => listeners.delete(f); }
function setSession(s: Session | null) {
  session = s;
  clearTimeout(renewal);
  if (s) renewal = setTimeout(refresh, renewIn(s.expiresAt));
  listeners.forEach((f) => f());
}

export function switchOrg(org: string) { if (session) setSession({ ...session, org }); }
export function logout() { setSession(null); }

/** Milliseconds until the token is renewed: a minute before it ends, or at four fifths of its life when that is
 * shorter, so an open page never holds an expired token. */
function renewIn(expiresAtMs: number): number {
  const left = expiresAtMs - Date.now();
  // setTimeout fires at once past 2^31 - 1 ms (24.8 days): a longer session renews then, and again.
  return Math.min(2 ** 31 - 1, Math.max(1000, left - Math.min(60_000, left * 0.2)));
}

/** A new token for the session's; a refused renewal (a password change, say) ends the session. */
async function refresh() {
  const s = session;
  if (!s) return;
  try {
    const r = await fetch("/api/v1/auth/refresh", { method: "POST", headers: { Authorization: `Bearer ${s.token}` } });
    if (r.status === 401 || r.status === 403) return session === s && logout();
    if (!r.ok) throw new Error(r.statusText);
    const { token, expires_at } = await r.json();
    if (session === s) setSession({ ...s, token, expiresAt: expires_at / 1000 });
  } catch {
    // The node is unreachable for now: try again shortly while the token still holds.
    if (session === s) renewal = setTimeout(refresh, Math.min(10_000, Math.max(1000, s.expiresAt - Date.now())));
  }
}

/** Email and password for a JWT, then who the user is (orgs and roles). */
export async function login(email: string, password: string): Promise<void> {
  const r = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }),
  });
  if (!r.ok) throw await failure(r);
  const { token, expires_at } = await r.json();
  const me = await (await fetch("/api/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } })).json();
  const orgs: OrgRole[] = me.orgs ?? [];
  setSession({ token, expiresAt: expires_at / 1000, email, isRoot: !!me.is_root, org: orgs[0]?.org ?? "default",
    orgs });
}

/** The role of the session in its current org (root counts as admin). */
export function role(): OrgRole["role"] | undefined {
  if (session?.isRoot) return "admin";
  return session?.orgs.find((o) => o.org === session!.org)?.role;
}

async function failure(r: Response): Promise<ApiError> {
  try {
    const body = await r.json();
    return { status: r.status, error: body.error ?? "error", message: body.message ?? r.statusText };
  } catch {
    return { status: r.status, error: "error", message: r.statusText };
  }
}

/** A call as the session's user in its org; an expired or refused session ends it (back to the login page). */
export async function api<T>(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<T> {
  return (await (await send(path, init, signal)).json()) as T;
}

/** The response of a call as the session's user (401 ends the session; any other failure throws ApiError). */
export async function send(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
  if (!session) throw { status: 401, error: "unauthorized", message: "not signed in" } as ApiError;
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${session.token}`);
  headers.set("X-Org-Id", session.org);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const r = await fetch(path, { ...init, headers, signal });
  if (r.status === 401) { logout(); throw await failure(r); }
  if (!r.ok) throw await failure(r);
  return r;
}

/** Whether the session's role in its org may change things (rules, incidents), not only read them. */
export const canWrite = () => role() === "admin" || role() === "editor";

export interface Column { name: string; type: string }
export interface QueryResult {
  columns: Column[]; rows: unknown[][]; took_ms: number; scanned_rows: number; scanned_files: number;
  scanned_bytes: number;
}

/** A query the node chose (or was asked) to run as a search job: its id, for the Search jobs page. */
export interface JobAccepted { job_id: string; state: string }

/** Answers the rows, or throws the accepted job when the node runs the query as a search job instead (202: asked
 * for with `asJob`, or estimated too large to answer at once). */
export async function query(sql: string, range: { start?: number; end?: number }, limit: number,
  signal?: AbortSignal, asJob = false): Promise<QueryResult> {
  const r = await send("/api/v1/query", {
    method: "POST", body: JSON.stringify({ sql, start_time: range.start, end_time: range.end, limit }),
    headers: asJob ? { Prefer: "respond-async" } : {},
  }, signal);
  const body = await r.json();
  if (r.status === 202) throw { job: body as JobAccepted };
  return body as QueryResult;
}

export const isJob = (e: unknown): e is { job: JobAccepted } => !!(e as { job?: unknown })?.job;

export interface Field { name: string; type: string }
export interface Stream {
  name: string; type: string; records: number; original_bytes: number; compressed_bytes: number; files: number;
  first_timestamp: number | null; last_timestamp: number | null; retention_days: number; fields: Field[];
}

export interface SchemaVersion { version: number; created_at: number; fields: Field[] }
export const schemaHistory = (stream: string, type: string) =>
  api<{ versions: SchemaVersion[] }>(`/api/v1/streams/${encodeURIComponent(stream)}/schema/history?type=${type}`)
    .then((h) => h.versions);

/** A time in µs as ISO text (UTC; milliseconds shown unless zero). */
export const isoTime = (us: number | null | undefined) =>
  us ? new Date(us / 1000).toISOString().replace(".000", "") : "";

export const streams = () => api<{ streams: Stream[] }>("/api/v1/streams").then((s) => s.streams);
