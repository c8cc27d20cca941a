import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  isJob, query, streams as listStreams, type ApiError, type JobAccepted, type QueryResult, type Stream,
} from "../api";
import { SqlEditor } from "../components/SqlEditor";
import { Histogram, type Buckets } from "../components/Histogram";
import { ResultsTable } from "../components/ResultsTable";
import { FieldSidebar, type TopValues } from "../components/FieldSidebar";
import { QueryProgress } from "../components/QueryProgress";
import { RangePicker } from "../components/RangePicker";
import {
  histogramSql, intervalFor, parseView, rangeOf, statement, topValuesSql, viewSearch, type ExplorerView,
} from "../explorer/view";

// The first answer is the newest 1,000 rows (drawn at once); more on demand, up to 100,000.
const FIRST_ROWS = 1_000, MAX_ROWS = 100_000;

/** Log explorer: stream, words, filters and range (in the URL), histogram, fields and rows. */
export function Explorer({ search, navigate }: { search: string; navigate: (search: string) => void }) {
  const view = useMemo(() => parseView(search), [search]);
  const [all, setAll] = useState<Stream[] | null>(null);
  const [draft, setDraft] = useState(statement(view));
  const [result, setResult] = useState<QueryResult | null>(null);
  const [buckets, setBuckets] = useState<Buckets | null>(null);
  const [top, setTop] = useState<TopValues | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [running, setRunning] = useState(false);
  const [job, setJob] = useState<JobAccepted | null>(null);
  const [limit, setLimit] = useState(FIRST_ROWS);
  const abort = useRef<AbortController | undefined>(undefined);

  useEffect(() => { listStreams().then(setAll, setError); }, []);
  const stream = all?.find((s) => s.name === view.stream) ?? null;
  const set = (change: Partial<ExplorerView>) => navigate(viewSearch({ ...view, ...change }));
  useEffect(() => {
    if (all?.length && !view.stream && !view.sql) set({ stream: all[0].name });
  }, [all]);
  useEffect(() => setDraft(statement(view)), [search]);

  async function run(rowLimit = FIRST_ROWS) {
    if (!view.stream && !view.sql) return;
    setLimit(rowLimit);
    abort.current?.abort();
    const controller = (abort.current = new AbortController());
    const range = rangeOf(view.range);
    setRunning(true);
    setError(null);
    setJob(null);
    setTop(null);
    try {
      const hasLevel = !!stream?.fields.some((f) => f.name === "level");
      // The histogram is a second query beside the rows; a statement it cannot count (no _timestamp, say)
      // leaves the rows without one.
      const [rows, hist] = await Promise.allSettled([
        // LIMIT in the statement itself: the engine then reads only the newest files' rows (a limit set beside
        // the statement would sort the whole range first).
        query(view.sql.trim() ? statement(view) : `${statement(view)} LIMIT ${rowLimit}`, range, rowLimit,
          controller.signal),
        query(histogramSql(view, intervalFor(range), hasLevel), range, 0, controller.signal),
      ]);
      if (rows.status === "rejected") throw rows.reason;
      setResult(rows.value);
      setBuckets(hist.status === "fulfilled" ? toBuckets(hist.value, hasLevel) : null);
    } catch (e) {
      if (isJob(e)) setJob(e.job);
      else if ((e as Error).name !== "AbortError") setError(e as ApiError);
    } finally {
      if (abort.current === controller) setRunning(false);
    }
  }

  /** The running statement handed to the node as a search job (every matching row, read later as NDJSON). */
  async function runAsJob() {
    abort.current?.abort();
    setRunning(false);
    try {
      await query(statement(view), rangeOf(view.range), 0, undefined, true);
    } catch (e) {
      if (isJob(e)) setJob(e.job);
      else setError(e as ApiError);
    }
  }
  useEffect(() => { run(); }, [search, stream?.name]);

  async function openField(field: string) {
    if (top?.field === field) return setTop(null);
    try {
      const r = await query(topValuesSql(view, field), rangeOf(view.range), 10);
      setTop({ field, values: r.rows.map((row) => ({ value: row[0] as string | null, n: row[1] as number })) });
    } catch (e) {
      setError(e as ApiError);
    }
  }

  // The editor's statement becomes the view's own SQL unless it is the one the stream, words and filters make.
  function submit() {
    set({ sql: draft === statement({ ...view, sql: "" }) ? "" : draft });
    run();
  }

  const schema = useMemo(() => Object.fromEntries((all ?? []).map((s) => [s.name, s.fields.map((f) => f.name)])),
    [all]);
  if (all && all.length === 0) return <EmptyState />;

  return (
    <div class="explorer">
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); submit(); }}>
        <label>Stream{" "}
          <select value={view.stream} onChange={(e) =>
            set({ stream: (e.target as HTMLSelectElement).value, filters: [], sql: "" })}>
            {(all ?? []).map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
          </select>
        </label>
        <input type="search" class="words" placeholder="Words to find (match_all)" aria-label="Words to find"
          value={view.words} onChange={(e) => set({ words: (e.target as HTMLInputElement).value, sql: "" })} />
        <RangePicker key={view.range + view.tz} range={view.range} tz={view.tz}
          onChange={(range) => set({ range })} />
        <label>Time zone{" "}
          <select value={view.tz} onChange={(e) => set({ tz: (e.target as HTMLSelectElement).value as "utc" })}>
            <option value="local">Local</option><option value="utc">UTC</option>
          </select>
        </label>
        <button type="submit" disabled={running}>Run</button>
        {running && <button type="button" onClick={() => { abort.current?.abort(); setRunning(false); }}>
          Cancel</button>}
      </form>
      <SqlEditor value={draft} schema={schema} onChange={setDraft} onRun={submit} />
      {view.filters.length > 0 && (
        <div class="chips" aria-label="Filters">
          {view.filters.map((f, i) => (
            <button key={i} class="chip" onClick={() => set({ filters: view.filters.filter((_, k) => k !== i) })}
              aria-label={`Remove filter ${f.field} ${f.exclude ? "!=" : "="} ${f.value}`}>
              {f.field} {f.exclude ? "≠" : "="} {f.value} ✕
            </button>
          ))}
        </div>
      )}
      {error && <div class="error" role="alert"><strong>{error.error}</strong>: {error.message}</div>}
      {job && <div class="notice" role="status">The query runs as search job <code>{job.job_id}</code>: its rows
        are on the <a href="#/jobs">Search jobs</a> page when it is done.</div>}
      <div class="status" aria-live={running ? "off" : "polite"}>
        {running ? <QueryProgress onRunAsJob={runAsJob} /> : result &&
          `${result.rows.length} rows · took ${result.took_ms} ms · scanned ${result.scanned_rows} rows in ` +
          `${result.scanned_files} files`}
      </div>
      {buckets && <Histogram data={buckets} onZoom={(s, e) => set({ range: `${s}..${e}` })} />}
      <div class="explorer-body">
        <FieldSidebar fields={stream?.fields ?? []} top={top} onOpen={openField}
          onPick={(field, value, exclude) =>
            set({ filters: [...view.filters, { field, value, exclude }], sql: "" })} />
        {result && (
          <div class="results-pane">
            <ResultsTable columns={result.columns} rows={result.rows} tz={view.tz} />
            {result.rows.length === limit && limit < MAX_ROWS && (
              <button onClick={() => run(MAX_ROWS)} disabled={running}>
                Show up to {MAX_ROWS.toLocaleString()} rows</button>)}
          </div>
        )}
      </div>
    </div>
  );
}

function toBuckets(r: QueryResult, hasLevel: boolean): Buckets {
  const times = [...new Set(r.rows.map((row) => row[0] as number))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const series = new Map<string, number[]>();
  for (const row of r.rows) {
    const label = hasLevel ? String(row[1] ?? "(none)") : "records";
    const counts = series.get(label) ?? series.set(label, times.map(() => 0)).get(label)!;
    counts[index.get(row[0] as number)!] += row[hasLevel ? 2 : 1] as number;
  }
  return { times, series: [...series].map(([label, counts]) => ({ label, counts })) };
}

function EmptyState() {
  const origin = location.origin;
  return (
    <div class="empty">
      <h2>No streams yet</h2>
      <p>Send a first record to this org, then run a query here:</p>
      <pre>{`curl -u EMAIL:PASSWORD -H 'Content-Type: application/json' \\
  ${origin}/api/v1/ingest/app -d '[{"level":"INFO","message":"hello from curl"}]'`}</pre>
    </div>
  );
}
