import { useEffect, useState } from "preact/hooks";
import { api, canWrite, isoTime, role, type ApiError } from "../api";
import { useLoad } from "../useLoad";

interface Rule {
  id: string; name: string; stream: string; stream_type: string; sql: string; period_secs: number;
  frequency_secs: number | null; cron: string | null; enabled: boolean; destinations: string[];
  condition: { column: string; operator: string; threshold: number };
}
interface Evaluation {
  id: string; window_start: number; window_end: number; evaluated_at: number; evaluated_by: string; fired: boolean;
  duration_ms: number; error: string | null;
}
interface Incident {
  id: string; rule_id: string; group_key: string; state: string; severity: string; value: number;
  opened_at: number; acked_by: string | null; resolved_by: string | null;
}
interface Destination { id: string; name: string; kind: string; webhook: { url: string } | null }

const OPERATORS = [">", ">=", "<", "<=", "==", "!="];

/** Alert rules with their last evaluation and history, incidents (acknowledge, resolve) and, for admins, the
 * destinations notifications go to. */
export function Alerts() {
  const [list, error, load] = useLoad<{ alerts: Rule[] }>("/api/v1/alerts");
  const rules = list?.alerts ?? null;
  const names = new Map((rules ?? []).map((r) => [r.id, r.name]));
  return (
    <div class="alerts">
      {error && <p class="error" role="alert">{error.message}</p>}
      <Rules rules={rules} reload={load} />
      <Incidents names={names} />
      {role() === "admin" && <Destinations />}
    </div>
  );
}

function Rules({ rules, reload }: { rules: Rule[] | null; reload: () => void }) {
  const [last, setLast] = useState<Record<string, Evaluation | null>>({});
  const [open, setOpen] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  useEffect(() => {
    // One small call per rule: the org's rules are bounded, and each answers from the evaluation ledger.
    for (const r of rules ?? [])
      api<{ evaluations: Evaluation[] }>(`/api/v1/alerts/${r.id}/history?limit=1`)
        .then((h) => setLast((m) => ({ ...m, [r.id]: h.evaluations[0] ?? null })), setFailure);
  }, [rules]);
  if (!rules) return <p>Loading…</p>;
  return (
    <section aria-labelledby="rules-title">
      <h2 id="rules-title">Alert rules</h2>
      {canWrite() && <NewRule created={reload} />}
      {failure && <p class="error" role="alert">{failure.message}</p>}
      {rules.length === 0 ? <p class="empty">No alert rules yet.</p> : (
        <table class="streams">
          <thead><tr><th scope="col">Rule</th><th scope="col">Stream</th><th scope="col">Schedule</th>
            <th scope="col">Condition</th><th scope="col">Last evaluation</th><th scope="col">Actions</th></tr></thead>
          <tbody>{rules.map((r) => [
            <tr key={r.id}>
              <td><button class="link" aria-expanded={open === r.id}
                onClick={() => setOpen(open === r.id ? null : r.id)}>{r.name}</button>
                {!r.enabled && <small> (disabled)</small>}</td>
              <td>{r.stream}</td>
              <td>{r.cron ? `cron ${r.cron}` : `every ${r.frequency_secs ?? r.period_secs} s`}{" "}
                over {r.period_secs} s</td>
              <td><code>{r.condition.column} {r.condition.operator} {r.condition.threshold}</code></td>
              <td data-testid={`last-${r.name}`}>{describe(last[r.id])}</td>
              <td>{canWrite() && <button aria-label={`Delete rule ${r.name}`} onClick={() =>
                api(`/api/v1/alerts/${r.id}`, { method: "DELETE" }).then(reload, setFailure)}>Delete</button>}</td>
            </tr>,
            open === r.id && <tr key={r.id + "-history"}><td colSpan={6}><History rule={r} /></td></tr>,
          ])}</tbody>
        </table>
      )}
    </section>
  );
}

function describe(e: Evaluation | null | undefined): string {
  if (e === undefined) return "…";
  if (e === null) return "not evaluated yet";
  return `${isoTime(e.evaluated_at)} · ${e.error ? `error: ${e.error}` : e.fired ? "fired" : "ok"}`;
}

/** The rule's evaluation ledger, newest first. */
function History({ rule }: { rule: Rule }) {
  const [history, error] = useLoad<{ evaluations: Evaluation[] }>(`/api/v1/alerts/${rule.id}/history?limit=20`);
  const list = history?.evaluations ?? null;
  if (error) return <p class="error" role="alert">{error.message}</p>;
  return (
    <div>
      <pre class="rule-sql">{rule.sql}</pre>
      <table class="streams" aria-label={`Evaluations of ${rule.name}`}>
        <thead><tr><th scope="col">Window</th><th scope="col">Evaluated</th><th scope="col">By</th>
          <th scope="col">Outcome</th><th scope="col">Took</th></tr></thead>
        <tbody>{(list ?? []).map((e) => (
          <tr key={e.id}><td>{isoTime(e.window_start)} → {isoTime(e.window_end)}</td>
            <td>{isoTime(e.evaluated_at)}</td>
            <td>{e.evaluated_by}</td><td>{e.error ? `error: ${e.error}` : e.fired ? "fired" : "ok"}</td>
            <td>{e.duration_ms} ms</td></tr>
        ))}</tbody>
      </table>
    </div>
  );
}

/** A rule from its essentials; the API takes the rest (cron, group_by, labels, silence) too. */
function NewRule({ created }: { created: () => void }) {
  const [failure, setFailure] = useState<ApiError | null>(null);
  function submit(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const value = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value;
    api("/api/v1/alerts", { method: "POST", body: JSON.stringify({
      name: value("rule-name"), stream: value("rule-stream"), sql: value("rule-sql"),
      period_secs: Number(value("rule-period")), frequency_secs: Number(value("rule-frequency")),
      condition: { column: value("rule-column"), operator: value("rule-operator"),
        threshold: Number(value("rule-threshold")) },
      destinations: value("rule-destinations").split(",").map((d) => d.trim()).filter(Boolean),
    }) }).then(() => { form.reset(); setFailure(null); created(); }, setFailure);
  }
  return (
    <details class="new-rule">
      <summary>New rule</summary>
      <form class="form-grid" onSubmit={submit}>
        <label>Name <input name="rule-name" required maxLength={256} /></label>
        <label>Stream <input name="rule-stream" required /></label>
        <label>SQL <textarea name="rule-sql" required rows={2}
          placeholder="SELECT count(*) AS n FROM app WHERE level = 'ERROR'" /></label>
        <label>Every (s) <input name="rule-frequency" type="number" min={1} value="60" /></label>
        <label>Over the last (s) <input name="rule-period" type="number" min={1} value="300" /></label>
        <label>Column <input name="rule-column" required value="n" /></label>
        <label>Operator <select name="rule-operator">{OPERATORS.map((o) => <option key={o}>{o}</option>)}</select>
        </label>
        <label>Threshold <input name="rule-threshold" type="number" step="any" required value="1" /></label>
        <label>Destination ids (comma-separated) <input name="rule-destinations" /></label>
        <button type="submit">Create rule</button>
      </form>
      {failure && <p class="error" role="alert">{failure.message}</p>}
    </details>
  );
}

function Incidents({ names }: { names: Map<string, string> }) {
  const [state, setState] = useState("");
  const [found, error, load, fail] =
    useLoad<{ incidents: Incident[] }>(`/api/v1/incidents?limit=100${state ? `&state=${state}` : ""}`);
  const list = found?.incidents ?? null;
  const act = (i: Incident, verb: "ack" | "resolve") =>
    api(`/api/v1/incidents/${i.id}/${verb}`, { method: "POST" }).then(load, fail);
  return (
    <section aria-labelledby="incidents-title">
      <h2 id="incidents-title">Incidents</h2>
      <div class="toolbar">
        <label>State <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
          <option value="">all</option><option>open</option><option>acknowledged</option><option>resolved</option>
        </select></label>
        <button onClick={load}>Refresh incidents</button>
      </div>
      {error && <p class="error" role="alert">{error.message}</p>}
      {list?.length === 0 && <p class="empty">No incidents.</p>}
      {!!list?.length && (
        <table class="streams" aria-label="Incident list">
          <thead><tr><th scope="col">Opened</th><th scope="col">Rule</th><th scope="col">Group</th>
            <th scope="col">Severity</th><th scope="col">Value</th><th scope="col">State</th>
            <th scope="col">Actions</th></tr></thead>
          <tbody>{list.map((i) => (
            <tr key={i.id} data-incident={i.id}>
              <td>{isoTime(i.opened_at)}</td><td>{names.get(i.rule_id) ?? i.rule_id}</td>
              <td>{i.group_key && i.group_key !== "[]" ? i.group_key : "—"}</td>
              <td>{i.severity}</td><td>{i.value}</td>
              <td class="incident-state">{i.state}{i.acked_by && i.state === "acknowledged" ? ` by ${i.acked_by}` : ""}
                {i.resolved_by ? ` by ${i.resolved_by}` : ""}</td>
              <td>{canWrite() && i.state === "open" &&
                  <button onClick={() => act(i, "ack")}>Acknowledge</button>}{" "}
                {canWrite() && i.state !== "resolved" &&
                  <button onClick={() => act(i, "resolve")}>Resolve</button>}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

function Destinations() {
  const [found, error, load, fail] = useLoad<{ destinations: Destination[] }>("/api/v1/destinations");
  const list = found?.destinations ?? null;
  const [note, setNote] = useState("");
  function create(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const value = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value;
    api("/api/v1/destinations", { method: "POST", body: JSON.stringify({
      name: value("destination-name"), kind: "webhook", webhook: { url: value("destination-url") } }) })
      .then(() => { form.reset(); fail(null); load(); }, fail);
  }
  const test = (d: Destination) => api(`/api/v1/destinations/${d.id}/test`, { method: "POST" })
    .then(() => setNote(`${d.name}: test delivered`), (e: ApiError) => setNote(`${d.name}: ${e.message}`));
  return (
    <section aria-labelledby="destinations-title">
      <h2 id="destinations-title">Destinations</h2>
      <form class="toolbar" onSubmit={create} aria-label="New webhook destination">
        <label>Destination name <input name="destination-name" required /></label>
        <label>Webhook URL <input name="destination-url" type="url" required /></label>
        <button type="submit">Add webhook</button>
      </form>
      {error && <p class="error" role="alert">{error.message}</p>}
      {note && <p role="status">{note}</p>}
      <table class="streams">
        <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Kind</th>
          <th scope="col">Target</th><th scope="col">Actions</th></tr></thead>
        <tbody>{(list ?? []).map((d) => (
          <tr key={d.id}><td>{d.name}</td><td><code>{d.id}</code></td><td>{d.kind}</td><td>{d.webhook?.url ?? ""}</td>
            <td><button onClick={() => test(d)}>Test</button>{" "}
              <button aria-label={`Delete destination ${d.name}`} onClick={() =>
                api(`/api/v1/destinations/${d.id}`, { method: "DELETE" }).then(load, fail)}>Delete</button></td>
          </tr>
        ))}</tbody>
      </table>
    </section>
  );
}
