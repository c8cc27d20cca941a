import { useEffect, useState } from "preact/hooks";
import { streams, type ApiError, type Stream } from "../api";

const size = (b: number) => b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(1)} GiB` : b >= 1 << 20
  ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;
const time = (us: number | null) => us === null ? "" : new Date(us / 1000).toISOString().replace(".000", "");

/** The org's streams: records, sizes, compression, time range, retention; a stream opens to its fields. */
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
            <td>{time(s.first_timestamp)}</td><td>{time(s.last_timestamp)}</td>
            <td>{s.retention_days ? `${s.retention_days} days` : "forever"}</td>
          </tr>,
          open === s.name && (
            <tr key={s.name + "-schema"}><td colSpan={8}>
              <ul class="schema">{s.fields.map((f) => <li key={f.name}>{f.name} <small>{f.type}</small></li>)}</ul>
            </td></tr>
          ),
        ])}
      </tbody>
    </table>
  );
}
