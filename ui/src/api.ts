// The session (a JWT held in memory only, never in storage) and the calls every page makes.

export interface ApiError { status: number; error: string; message: string }

export interface Session {
  token: string; expiresAt: number; email: string; isRoot: boolean; org: string; orgs: OrgRole[];
}
export interface OrgRole { org: string; role: "admin" | "editor" | "viewer" | "ingester" }

let session: Session | null = null;
const listeners = new Set<() => void>();

export const getSession = () => session;
export function onSession(f: () => void) { listeners.add(f); return () => listeners.delete(f); }
function setSession(s: Session | null) { session = s; listeners.forEach((f) => f()); }

export function switchOrg(org: string) { if (session) setSession({ ...session, org }); }
export function logout() { setSession(null); }

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
  if (!session) throw { status: 401, error: "unauthorized", message: "not signed in" } as ApiError;
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${session.token}`);
  headers.set("X-Org-Id", session.org);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const r = await fetch(path, { ...init, headers, signal });
  if (r.status === 401) { logout(); throw await failure(r); }
  if (!r.ok) throw await failure(r);
  return (await r.json()) as T;
}

export interface Column { name: string; type: string }
export interface QueryResult {
  columns: Column[]; rows: unknown[][]; took_ms: number; scanned_rows: number; scanned_files: number;
  scanned_bytes: number;
}

export function query(sql: string, range: { start?: number; end?: number }, limit: number, signal?: AbortSignal) {
  return api<QueryResult>("/api/v1/query", {
    method: "POST", body: JSON.stringify({ sql, start_time: range.start, end_time: range.end, limit }),
  }, signal);
}

export interface Field { name: string; type: string }
export interface Stream {
  name: string; type: string; records: number; original_bytes: number; compressed_bytes: number; files: number;
  first_timestamp: number | null; last_timestamp: number | null; retention_days: number; fields: Field[];
}

export const streams = () => api<{ streams: Stream[] }>("/api/v1/streams").then((s) => s.streams);
