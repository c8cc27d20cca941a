import { useState } from "preact/hooks";
import { api, getSession, isoTime, role, type ApiError } from "../api";
import { useLoad } from "../useLoad";

interface Member { email: string; role: string; is_root: boolean }
interface Token { id: string; name: string; owner: string | null; org: string | null; role: string; created_at: number;
  expires_at: number | null }
interface Quota { limit: number; usage: number; source: string }
interface AuditEntry { at: number; actor: string; action: string; target: string; client: string; result: string }


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
        <label>Token role <select name="role">
          {ROLES.map((r) => <option key={r}>{r}</option>)}
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
            <td>{isoTime(t.created_at)}</td><td>{isoTime(t.expires_at)}</td>
            <td><button aria-label={`Revoke ${t.name}`}
              onClick={() => api(`/api/v1/tokens/${t.id}`, { method: "DELETE" }).then(load, setFailure)}>
              Revoke</button></td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}

const ROLES = ["viewer", "editor", "ingester", "admin"];

/** Members and their roles: add one (a new user needs a password), change a role, remove. */
function Members() {
  const org = getSession()!.org;
  const base = `/api/v1/orgs/${encodeURIComponent(org)}/members`;
  const [list, error, load] = useLoad<{ members: Member[] }>(base);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const act = (p: Promise<unknown>) => p.then(() => { setFailure(null); load(); }, setFailure);
  const member = (email: string) => `${base}/${encodeURIComponent(email)}`;
  function add(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const value = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value;
    act(api(base, { method: "POST", body: JSON.stringify({
      email: value("email"), role: value("member-role"), password: value("password") || undefined }) })
      .then(() => form.reset()));
  }
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <form class="toolbar" onSubmit={add} aria-label="Add a member">
        <label>Email <input name="email" type="email" required maxLength={254} /></label>
        <label>Member role <select name="member-role">{ROLES.map((r) => <option key={r}>{r}</option>)}</select></label>
        <label>Password (new users) <input name="password" type="password" autoComplete="new-password" /></label>
        <button type="submit">Add member</button>
      </form>
      {(error ?? failure) && <p class="error" role="alert">{(error ?? failure)!.message}</p>}
      <table class="streams">
        <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Remove</th></tr></thead>
        <tbody>{(list?.members ?? []).map((m) => (
          <tr key={m.email}><td>{m.email}</td>
            <td>{m.is_root ? "root" : (
              <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => act(api(member(m.email),
                { method: "PUT", body: JSON.stringify({ role: (e.target as HTMLSelectElement).value }) }))}>
                {ROLES.map((r) => <option key={r}>{r}</option>)}
              </select>)}</td>
            <td>{!m.is_root && <button aria-label={`Remove ${m.email}`}
              onClick={() => act(api(member(m.email), { method: "DELETE" }))}>Remove</button>}</td></tr>
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
          <tr key={i}><td>{isoTime(a.at)}</td><td>{a.actor}</td><td>{a.action}</td><td>{a.target}</td>
            <td>{a.result}</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}
