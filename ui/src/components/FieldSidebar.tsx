import { useState } from "preact/hooks";
import type { Field } from "../api";

export interface TopValues { field: string; values: { value: string | null; n: number }[] }

interface Props {
  fields: Field[];
  top: TopValues | null;
  onOpen: (field: string) => void;
  onPick: (field: string, value: string, exclude: boolean) => void;
}

/** Every field with its type; opening one shows its top 10 values for the current query, each addable as a
 * filter (or an exclusion). */
export function FieldSidebar({ fields, top, onOpen, onPick }: Props) {
  const [filter, setFilter] = useState("");
  const shown = fields.filter((f) => f.name.toLowerCase().includes(filter.toLowerCase()));
  return (
    <aside class="fields" aria-label="Fields">
      <input type="search" placeholder="Filter fields" aria-label="Filter fields" value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <ul>
        {shown.map((f) => (
          <li key={f.name}>
            <button class="field" aria-expanded={top?.field === f.name} onClick={() => onOpen(f.name)}>
              <span>{f.name}</span> <small>{f.type}</small>
            </button>
            {top?.field === f.name && (
              <ul class="top-values" aria-label={`Top values of ${f.name}`}>
                {top.values.map((v) => (
                  <li key={String(v.value)}>
                    <button class="value" disabled={v.value === null} onClick={() => onPick(f.name, v.value!, false)}
                      title={`Add ${f.name} = '${v.value}'`}>{v.value ?? "(null)"}</button>
                    <span class="count">{v.n}</span>
                    <button class="exclude" disabled={v.value === null} aria-label={`Exclude ${v.value}`}
                      onClick={() => onPick(f.name, v.value!, true)}>−</button>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
