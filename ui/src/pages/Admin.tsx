import { useEffect, useState } from "preact/hooks";
import { api, getSession, role, type ApiError } from "../api";

interface Member { email: string; role: string; is_root: boolean }
interface Token { id: string; name: string; owner: string | null; org: string | null; role: string; created_at: number;
  expires_at: number | null }
interface Quota { limit: number; usage: number; source: string }
interface AuditEntry { at: number; actor: string; action: string; target: string; client: string; result: string }

const time = (us: number | null) => us ? new Date(us / 1000).toISOString().replace(".000", "") : "";

/** Org administration: members and roles, API tokens (a new one's secret shown once), quotas and usage, audit. */
export function Admin() {
  if (role() !== "admin")
    return <p class="error" role="alert">Administration needs the admin role in this org.</p>;
  return (
    <div class="admin">
      <Tokens />
      <Members />
      <Quotas />
      <Audit />
    </div>
  );
}

function useLoad<T>(path: string): [T | null, ApiError | null, () => void] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () => api<T>(path).then(setValue, setError);
  useEffect(() => { load(); }, [path]);
  return [value, error, load];
}

function Tokens() {
  const [list, error, load] = useLoad<{ tokens: Token[] }>("/api/v1/tokens");
  const [secret, setSecret] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const org = getSession()!.org;
  async function create(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const value = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value;
    try {
      const made = await api<{ token: string }>("/api/v1/tokens", {
        method: "POST", body: JSON.stringify({ name: value("name"), org, role: value("role") }),
      });
      setSecret(made.token);
      form.reset();
      load();
    } catch (err) {
      setFailure(err as ApiError);
    }
  }
  return (
    <section aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <form class="toolbar" onSubmit={create}>
        <label>Name <input name="name" required maxLength={64} /></label>
        <label>Role <select name="role">
          {["viewer", "editor", "ingester", "admin"].map((r) => <option key={r}>{r}</option>)}
        </select></label>
        <button type="submit">Create service token</button>
      </form>
      {secret && (
        <div class="secret" role="status">
          <p>The token, shown this once: <code data-testid="new-token">{secret}</code>{" "}
            <button onClick={() => navigator.clipboard?.writeText(secret)}>Copy</button></p>
          <p>Use it as <code>Authorization: Bearer …</code> or <code>curl -u EMAIL:TOKEN</code>.</p>
        </div>
      )}
      {(error ?? failure) && <p class="error" role="alert">{(error ?? failure)!.message}</p>}
      <table class="streams">
        <thead><tr><th scope="col">Name</th><th scope="col">Org</th><th scope="col">Role</th>
          <th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Revoke</th></tr></thead>
        <tbody>{(list?.tokens ?? []).map((t) => (
          <tr key={t.id}><td>{t.name}</td><td>{t.org ?? "(personal)"}</td><td>{t.role}</td>
            <td>{time(t.created_at)}</td><td>{time(t.expires_at)}</td>
            <td><button aria-label={`Revoke ${t.name}`}
              onClick={() => api(`/api/v1/tokens/${t.id}`, { method: "DELETE" }).then(load, setFailure)}>
              Revoke</button></td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}

function Members() {
  const org = getSession()!.org;
  const [list, error] = useLoad<{ members: Member[] }>(`/api/v1/orgs/${encodeURIComponent(org)}/members`);
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      {error && <p class="error" role="alert">{error.message}</p>}
      <table class="streams">
        <thead><tr><th scope="col">Email</th><th scope="col">Role</th></tr></thead>
        <tbody>{(list?.members ?? []).map((m) => (
          <tr key={m.email}><td>{m.email}</td><td>{m.is_root ? "root" : m.role}</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}

function Quotas() {
  const org = getSession()!.org;
  const [q, error] = useLoad<{ quotas: Record<string, Quota> }>(`/api/v1/orgs/${encodeURIComponent(org)}/quotas`);
  return (
    <section aria-labelledby="quotas-title">
      <h2 id="quotas-title">Quotas and usage</h2>
      {error && <p class="error" role="alert">{error.message}</p>}
      <table class="streams">
        <thead><tr><th scope="col">Quota</th><th scope="col">Usage</th><th scope="col">Limit</th></tr></thead>
        <tbody>{Object.entries(q?.quotas ?? {}).map(([name, v]) => (
          <tr key={name}><td>{name.replace(/_/g, " ")}</td><td>{v.usage.toLocaleString()}</td>
            <td>{v.limit ? v.limit.toLocaleString() : "unlimited"} ({v.source})</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}

function Audit() {
  const [list, error] = useLoad<{ entries: AuditEntry[] }>("/api/v1/audit?limit=100");
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      {error && <p class="error" role="alert">{error.message}</p>}
      <table class="streams">
        <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th>
          <th scope="col">Target</th><th scope="col">Result</th></tr></thead>
        <tbody>{(list?.entries ?? []).map((a, i) => (
          <tr key={i}><td>{time(a.at)}</td><td>{a.actor}</td><td>{a.action}</td><td>{a.target}</td>
            <td>{a.result}</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}
