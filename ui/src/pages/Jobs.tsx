import { api, getSession, isoTime } from "../api";
import { useLoad } from "../useLoad";

interface Job {
  job_id: string; state: string; sql: string; rows: number | null; error: string | null; created_at: number;
  finished_at: number | null; result_url: string | null;
}


/** Search jobs: state, rows, download of a done job's NDJSON, cancel of a pending or running one. */
export function Jobs() {
  const [found, error, load, setError] = useLoad<{ jobs: Job[] }>("/api/v1/query/jobs");
  const jobs = found?.jobs ?? null;

  async function download(job: Job) {
    const s = getSession()!;
    const r = await fetch(`/api/v1/query/jobs/${job.job_id}/result`,
      { headers: { Authorization: `Bearer ${s.token}`, "X-Org-Id": s.org } });
    if (!r.ok) return setError({ status: r.status, error: "download_failed", message: r.statusText });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `${job.job_id}.ndjson`;
    a.click();
    URL.revokeObjectURL(a.href);
  }

  if (error) return <div class="error" role="alert">{error.message}</div>;
  if (!jobs) return <p>Loading…</p>;
  if (jobs.length === 0)
    return <p class="empty">No search jobs. A query sent with <code>Prefer: respond-async</code>, or one too large
      to answer at once, becomes a job listed here.</p>;
  return (
    <table class="streams">
      <caption>Search jobs <button onClick={load}>Refresh</button></caption>
      <thead><tr><th scope="col">Created</th><th scope="col">State</th><th scope="col">SQL</th>
        <th scope="col">Rows</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.job_id}>
            <td>{isoTime(j.created_at)}</td><td>{j.state}{j.error ? `: ${j.error}` : ""}</td>
            <td><code>{j.sql}</code></td><td>{j.rows ?? ""}</td>
            <td>
              {j.state === "done" && <button onClick={() => download(j)}>Download</button>}
              {(j.state === "pending" || j.state === "running") && (
                <button onClick={() => api(`/api/v1/query/jobs/${j.job_id}`, { method: "DELETE" }).then(load,
                  setError)}>Cancel</button>)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
