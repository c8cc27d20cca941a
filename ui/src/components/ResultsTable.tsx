import { useState } from "preact/hooks";
import type { Column } from "../api";

const ROW = 26; // px per collapsed row: only the rows in view (plus a margin) are in the DOM
const MARGIN = 20;

interface Props { columns: Column[]; rows: unknown[][]; tz: "local" | "utc" }

export function formatCell(value: unknown, column: Column, tz: "local" | "utc"): string {
  if (value === null || value === undefined) return "";
  if (column.name === "_timestamp" && typeof value === "number") {
    const d = new Date(value / 1000);
    return tz === "utc" ? d.toISOString() : d.toLocaleString(undefined, { hour12: false }) +
      `.${String(d.getMilliseconds()).padStart(3, "0")}`;
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** The rows, virtualized (100k rows scroll as 60 do); a row opens to its JSON with a copy button. */
export function ResultsTable({ columns, rows, tz }: Props) {
  const [top, setTop] = useState(0);
  const [open, setOpen] = useState<number | null>(null);
  const height = 520;
  const openExtra = open === null ? 0 : 240;
  const first = Math.max(0, Math.floor(top / ROW) - MARGIN);
  const last = Math.min(rows.length, Math.ceil((top + height) / ROW) + MARGIN);
  const record = (r: unknown[]) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]]));

  return (
    <div class="results" role="table" aria-label="Query results" aria-rowcount={rows.length}
      style={{ height: `${height}px` }} onScroll={(e) => setTop((e.target as HTMLElement).scrollTop)}>
      <div role="rowgroup" class="results-head">
        <div role="row" class="results-head-row">
          <div role="columnheader" class="toggle-cell"><span class="sr-only">Details</span></div>
          {columns.map((c) => <div role="columnheader" class="cell" key={c.name} title={c.type}>{c.name}</div>)}
        </div>
      </div>
      <div role="rowgroup" style={{ height: `${rows.length * ROW + openExtra}px`, position: "relative" }}>
        {rows.slice(first, last).map((r, k) => {
          const i = first + k;
          const y = i * ROW + (open !== null && i > open ? openExtra : 0);
          return (
            <div key={i} role="row" class={`results-row${i === open ? " open" : ""}`} style={{ top: `${y}px` }}
              aria-rowindex={i + 1}>
              <div role="cell" class="toggle-cell">
                <button class="row-toggle" aria-expanded={i === open} aria-label={`Row ${i + 1} details`}
                  onClick={() => setOpen(i === open ? null : i)}>{i === open ? "▾" : "▸"}</button>
              </div>
              {columns.map((c, j) => <div role="cell" class="cell" key={c.name}>{formatCell(r[j], c, tz)}</div>)}
              {i === open && (
                <div class="row-json" role="cell">
                  <button onClick={() => navigator.clipboard?.writeText(JSON.stringify(record(r), null, 2))}>
                    Copy JSON
                  </button>
                  <pre data-testid="row-json">{JSON.stringify(record(r), null, 2)}</pre>
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
