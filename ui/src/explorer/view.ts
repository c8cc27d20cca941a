// What the explorer shows, kept in the URL (#/explore?stream=...&range=...) so a link reproduces the view.

export interface Filter { field: string; value: string; exclude: boolean }

export interface ExplorerView {
  stream: string;
  words: string; // plain words: match_all(...)
  filters: Filter[];
  sql: string; // set when the user wrote the statement: it wins over stream, words and filters
  range: string; // relative ("15m" ... "30d") or absolute "start_us..end_us"
  tz: "local" | "utc";
}

export const RELATIVE: Record<string, number> = {
  "15m": 15 * 60, "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400,
};

export function parseView(search: string): ExplorerView {
  const p = new URLSearchParams(search);
  let filters: Filter[] = [];
  try { filters = JSON.parse(p.get("filters") ?? "[]"); } catch { filters = []; }
  return {
    stream: p.get("stream") ?? "", words: p.get("q") ?? "", filters, sql: p.get("sql") ?? "",
    range: p.get("range") ?? "1h", tz: p.get("tz") === "utc" ? "utc" : "local",
  };
}

export function viewSearch(v: ExplorerView): string {
  const p = new URLSearchParams();
  if (v.stream) p.set("stream", v.stream);
  if (v.words) p.set("q", v.words);
  if (v.filters.length) p.set("filters", JSON.stringify(v.filters));
  if (v.sql) p.set("sql", v.sql);
  p.set("range", v.range);
  if (v.tz === "utc") p.set("tz", "utc");
  return p.toString();
}

/** The range in µs since the epoch [start, end) as of now. */
export function rangeOf(range: string, now = Date.now()): { start: number; end: number } {
  const abs = /^(\d+)\.\.(\d+)$/.exec(range);
  if (abs) return { start: Number(abs[1]), end: Number(abs[2]) };
  const secs = RELATIVE[range] ?? 3600;
  return { start: (now - secs * 1000) * 1000, end: now * 1000 + 1 };
}

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The WHERE clause of the view's words and filters ("" when none). */
export function where(v: ExplorerView): string {
  const terms: string[] = [];
  if (v.words.trim()) terms.push(`match_all(${literal(v.words.trim())})`);
  for (const f of v.filters)
    terms.push(`${ident(f.field)} ${f.exclude ? "IS DISTINCT FROM" : "="} ${literal(f.value)}`);
  return terms.length ? ` WHERE ${terms.join(" AND ")}` : "";
}

/** The statement the explorer runs: the user's, or the stream's records matching the words and filters. */
export function statement(v: ExplorerView): string {
  if (v.sql.trim()) return v.sql.trim();
  return `SELECT * FROM ${ident(v.stream)}${where(v)} ORDER BY _timestamp DESC`;
}

/** Counts per interval over the range, by level when the stream has one. */
export function histogramSql(v: ExplorerView, intervalSecs: number, hasLevel: boolean): string {
  const source = v.sql.trim() ? `(${stripOrder(v.sql)}) AS q` : `${ident(v.stream)}${where(v)}`;
  const level = hasLevel ? ", CAST(level AS VARCHAR) AS level" : "";
  return `SELECT histogram(_timestamp, '${intervalSecs} seconds') AS t${level}, count(*) AS n FROM ${source} ` +
    `GROUP BY ALL ORDER BY 1`;
}

/** Top values of one field for the current query. */
export function topValuesSql(v: ExplorerView, field: string): string {
  const source = v.sql.trim() ? `(${stripOrder(v.sql)}) AS q` : `${ident(v.stream)}${where(v)}`;
  return `SELECT CAST(${ident(field)} AS VARCHAR) AS value, count(*) AS n FROM ${source} GROUP BY 1 ` +
    `ORDER BY 2 DESC, 1 LIMIT 10`;
}

const stripOrder = (sql: string) => sql.trim().replace(/;$/, "");

/** An interval giving about 60 bars over the range, rounded to a readable step. */
export function intervalFor(range: { start: number; end: number }): number {
  const secs = (range.end - range.start) / 1e6 / 60;
  const steps = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400];
  return steps.find((s) => s >= secs) ?? 86400;
}
