import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Column } from "../api";

// Only the rows and columns in view (plus a margin) are in the DOM: px per collapsed row, per column, per toggle.
const ROW = 26, COL = 196, TOGGLE = 24;
const MARGIN_ROWS = 8, MARGIN_COLS = 1;
const HEIGHT = 520, OPEN_EXTRA = 240;

interface Props { columns: Column[]; rows: unknown[][]; tz: "local" | "utc" }

// One formatter for every local timestamp: toLocaleString builds a new one per call, too slow for a scroll.
const localTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  fractionalSecondDigits: 3, hour12: false,
});

export function formatCell(value: unknown, column: Column, tz: "local" | "utc"): string {
  if (value === null || value === undefined) return "";
  if (column.name === "_timestamp" && typeof value === "number") {
    const d = new Date(value / 1000);
    return tz === "utc" ? d.toISOString() : localTime.format(d);
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * The row indexes [first, last) in slot order: row i always sits in slot i % slots. Rendered in that order and
 * keyed by slot, a scroll keeps every row element in place and rewrites only the rows that came into view (a
 * list in row order would move elements on each step); aria-rowindex gives assistive tools the row order.
 */
function inSlots(first: number, last: number, slots: number): number[] {
  const out: number[] = [];
  const pivot = first % slots;
  for (let s = 0; s < slots; s++) {
    const i = first + ((s - pivot + slots) % slots);
    if (i < last) out.push(i);
  }
  return out;
}

/** The rows and columns in view of a scroll position: [first, last) of each. */
interface Window { first: number; last: number; firstCol: number; lastCol: number }

function windowAt(top: number, left: number, width: number, rows: number, cols: number): Window {
  return {
    first: Math.max(0, Math.floor(top / ROW) - MARGIN_ROWS),
    last: Math.min(rows, Math.ceil((top + HEIGHT) / ROW) + MARGIN_ROWS),
    firstCol: Math.max(0, Math.floor((left - TOGGLE) / COL) - MARGIN_COLS),
    lastCol: Math.min(cols, Math.ceil((left + width) / COL) + MARGIN_COLS),
  };
}

const same = (a: Window, b: Window) =>
  a.first === b.first && a.last === b.last && a.firstCol === b.firstCol && a.lastCol === b.lastCol;

/** The rows, virtualized both ways (100k rows by dozens of fields scroll as a screenful does); a row opens to its
 * JSON with a copy button. */
export function ResultsTable({ columns, rows, tz }: Props) {
  const [view, setView] = useState<Window>(() => windowAt(0, 0, 1600, rows.length, columns.length));
  const [open, setOpen] = useState<number | null>(null);
  const host = useRef<HTMLDivElement>(null);
  // The window of the element's own size and position, once drawn and again for each new result.
  useLayoutEffect(() => {
    const el = host.current;
    if (el) setView(windowAt(el.scrollTop, el.scrollLeft, el.clientWidth, rows.length, columns.length));
  }, [rows, columns]);
  const { first, last, firstCol, lastCol } = view;
  const openExtra = open === null ? 0 : OPEN_EXTRA;
  const slots = Math.ceil(HEIGHT / ROW) + 2 * MARGIN_ROWS + 2; // more than the rows [first, last) can ever be
  const shown = columns.slice(firstCol, lastCol);
  const before = firstCol * COL, after = (columns.length - lastCol) * COL;
  const record = (r: unknown[]) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]]));
  function onScroll(e: Event) {
    const el = e.currentTarget as HTMLElement;
    const next = windowAt(el.scrollTop, el.scrollLeft, el.clientWidth, rows.length, columns.length);
    if (!same(next, view)) setView(next); // a scroll within the same rows and columns renders nothing
  }

  return (
    <div ref={host} class="results" role="table" aria-label="Query results" aria-rowcount={rows.length}
      aria-colcount={columns.length + 1} style={{ height: `${HEIGHT}px` }} onScroll={onScroll}>
      <div role="rowgroup" class="results-head" style={{ width: `${TOGGLE + columns.length * COL}px` }}>
        <div role="row" class="results-head-row">
          <div role="columnheader" class="toggle-cell"><span class="sr-only">Details</span></div>
          <div class="col-gap" style={{ width: `${before}px` }} />
          {shown.map((c, k) => <div role="columnheader" class="cell" key={c.name} title={c.type}
            aria-colindex={firstCol + k + 2}>{c.name}</div>)}
        </div>
      </div>
      <div role="rowgroup" class="results-body"
        style={{ height: `${rows.length * ROW + openExtra}px`, width: `${TOGGLE + columns.length * COL}px` }}>
        {inSlots(first, last, slots).map((i) => {
          const r = rows[i];
          const y = i * ROW + (open !== null && i > open ? openExtra : 0);
          return (
            <div key={i % slots} role="row" class={`results-row${i === open ? " open" : ""}`} style={{ top: `${y}px` }}
              aria-rowindex={i + 1}>
              <div role="cell" class="toggle-cell">
                <button class="row-toggle" aria-expanded={i === open} aria-label={`Row ${i + 1} details`}
                  onClick={() => setOpen(i === open ? null : i)}>{i === open ? "▾" : "▸"}</button>
              </div>
              <div class="col-gap" style={{ width: `${before}px` }} />
              {shown.map((c, k) => <div role="cell" class="cell" key={c.name} aria-colindex={firstCol + k + 2}>
                {formatCell(r[firstCol + k], c, tz)}</div>)}
              <div class="col-gap" style={{ width: `${after}px` }} />
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
