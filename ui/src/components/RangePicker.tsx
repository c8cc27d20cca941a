import { useState } from "preact/hooks";
import { RELATIVE, rangeOf } from "../explorer/view";

const ABSOLUTE = "absolute";

/** A `datetime-local` value (minutes) for a time in µs, read in the time zone. */
export function toInput(us: number, tz: "local" | "utc"): string {
  const d = new Date(us / 1000);
  if (tz === "utc") return d.toISOString().slice(0, 16);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The time in µs of a `datetime-local` value read in the time zone; null when it is not a time. */
export function fromInput(value: string, tz: "local" | "utc"): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value)) return null;
  const ms = tz === "utc" ? Date.parse(value + "Z") : new Date(value).getTime();
  return Number.isFinite(ms) ? ms * 1000 : null;
}

/** Relative ranges (15 m … 30 d), or an absolute one typed as from/to in the view's time zone. */
export function RangePicker({ range, tz, onChange }: {
  range: string; tz: "local" | "utc"; onChange: (range: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const absolute = !RELATIVE[range];
  const current = rangeOf(range);
  const [from, setFrom] = useState(toInput(current.start, tz));
  const [to, setTo] = useState(toInput(current.end, tz));
  const [problem, setProblem] = useState("");

  function choose(value: string) {
    if (value !== ABSOLUTE) return (setEditing(false), onChange(value));
    setFrom(toInput(current.start, tz));
    setTo(toInput(current.end, tz));
    setEditing(true);
  }

  function apply() {
    const start = fromInput(from, tz), end = fromInput(to, tz);
    if (start === null || end === null) return setProblem("Both times are needed.");
    if (end <= start) return setProblem("The end comes after the start.");
    setProblem("");
    setEditing(false);
    onChange(`${start}..${end}`);
  }

  return (
    <span class="range-picker">
      <label>Range{" "}
        <select value={editing || absolute ? ABSOLUTE : range}
          onChange={(e) => choose((e.target as HTMLSelectElement).value)}>
          {Object.keys(RELATIVE).map((r) => <option key={r} value={r}>Last {r}</option>)}
          <option value={ABSOLUTE}>{absolute && !editing
            ? `${toInput(current.start, tz).replace("T", " ")} → ${toInput(current.end, tz).replace("T", " ")}`
            : "Absolute…"}</option>
        </select>
      </label>
      {absolute && !editing && <button type="button" onClick={() => choose(ABSOLUTE)}>Edit range</button>}
      {editing && (
        <span class="range-absolute" role="group" aria-label="Absolute range">
          <label>From <input type="datetime-local" value={from}
            onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
          <label>To <input type="datetime-local" value={to}
            onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
          <button type="button" onClick={apply}>Apply range</button>
          {problem && <span class="error" role="alert">{problem}</span>}
        </span>
      )}
    </span>
  );
}
