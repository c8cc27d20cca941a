import { useEffect, useState } from "preact/hooks";
import { isoTime, schemaHistory, streams, type ApiError, type SchemaVersion, type Stream } from "../api";

const size = (b: number) => b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(1)} GiB` : b >= 1 << 20
  ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;

/** The org's streams: records, sizes, compression, time range, retention; a stream opens to its fields and the
 * history of its schema. */
export function Streams() {
  const [all, setAll] = useState<Stream[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => { streams().then(setAll, setError); }, []);
  if (error) return <div class="error" role="alert">{error.message}</div>;
  if (!all) return <p>Loading…</p>;
  return (
    <table class="streams">
      <caption>Streams</caption>
      <thead><tr>
        <th scope="col">Stream</th><th scope="col">Type</th><th scope="col">Records</th>
        <th scope="col">Stored</th><th scope="col">Compression</th><th scope="col">First</th>
        <th scope="col">Last</th><th scope="col">Retention</th>
      </tr></thead>
      <tbody>
        {all.map((s) => [
          <tr key={s.name}>
            <td><button class="link" aria-expanded={open === s.name}
              onClick={() => setOpen(open === s.name ? null : s.name)}>{s.name}</button></td>
            <td>{s.type}</td><td>{s.records.toLocaleString()}</td><td>{size(s.compressed_bytes)}</td>
            <td>{s.compressed_bytes ? `${(s.original_bytes / s.compressed_bytes).toFixed(1)}×` : ""}</td>
            <td>{isoTime(s.first_timestamp)}</td><td>{isoTime(s.last_timestamp)}</td>
            <td>{s.retention_days ? `${s.retention_days} days` : "forever"}</td>
          </tr>,
          open === s.name && (
            <tr key={s.name + "-schema"}><td colSpan={8}>
              <div class="schema-detail">
                <section aria-label={`Fields of ${s.name}`}>
                  <h2>Fields</h2>
                  <ul class="schema">{s.fields.map((f) => <li key={f.name}>{f.name} <small>{f.type}</small></li>)}</ul>
                </section>
                <SchemaHistory stream={s} />
              </div>
            </td></tr>
          ),
        ])}
      </tbody>
    </table>
  );
}

/** Each stored schema version, newest first, with the fields it added and the types it changed. */
function SchemaHistory({ stream }: { stream: Stream }) {
  const [versions, setVersions] = useState<SchemaVersion[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => { schemaHistory(stream.name, stream.type).then(setVersions, setError); }, [stream.name]);
  return (
    <section aria-label={`Schema history of ${stream.name}`}>
      <h2>Schema history</h2>
      {error && <p class="error" role="alert">{error.message}</p>}
      {versions?.length === 0 && <p>No version stored yet: the first flush of the stream writes one.</p>}
      <ol class="schema-history">
        {(versions ?? []).map((v, i) => (
          <li key={v.version}>
            <strong>Version {v.version}</strong> <time>{isoTime(v.created_at)}</time>{" "}
            {describeChange(v, versions![i + 1])}
          </li>
        ))}
      </ol>
    </section>
  );
}

function describeChange(v: SchemaVersion, before: SchemaVersion | undefined): string {
  if (!before) return `${v.fields.length} fields`;
  const old = new Map(before.fields.map((f) => [f.name, f.type]));
  const added = v.fields.filter((f) => !old.has(f.name)).map((f) => `${f.name} (${f.type})`);
  const changed = v.fields.filter((f) => old.has(f.name) && old.get(f.name) !== f.type)
    .map((f) => `${f.name} ${old.get(f.name)} → ${f.type}`);
  return [added.length ? `added ${added.join(", ")}` : "", changed.length ? `widened ${changed.join(", ")}` : ""]
    .filter(Boolean).join("; ") || "no field change";
}
