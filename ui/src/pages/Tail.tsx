import { useEffect, useRef, useState } from "preact/hooks";
import { getSession, streams as listStreams, type Stream } from "../api";

const KEEP = 1000; // records shown at most, newest first

/** Live tail: records pushed by the stream's ingester as they are acknowledged, filtered by words. */
export function Tail({ search, navigate }: { search: string; navigate: (search: string) => void }) {
  const params = new URLSearchParams(search);
  const stream = params.get("stream") ?? "";
  const filter = params.get("filter") ?? "";
  const [all, setAll] = useState<Stream[]>([]);
  const [lines, setLines] = useState<Record<string, unknown>[]>([]);
  const [state, setState] = useState("Connecting…");
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const set = (change: Record<string, string>) =>
    navigate(new URLSearchParams({ stream, filter, ...change }).toString());

  useEffect(() => {
    listStreams().then((s) => {
      setAll(s);
      if (!stream && s.length) set({ stream: s[0].name });
    });
  }, []);

  useEffect(() => {
    if (!stream) return;
    const controller = new AbortController();
    setLines([]);
    (async () => {
      const session = getSession()!;
      try {
        const path = `/api/v1/streams/${encodeURIComponent(stream)}/tail?filter=${encodeURIComponent(filter)}`;
        const r = await fetch(path, {
          headers: { Authorization: `Bearer ${session.token}`, "X-Org-Id": session.org }, signal: controller.signal,
        });
        if (!r.ok || !r.body) {
          setState(`Tail refused: ${(await r.json().catch(() => ({}))).message ?? r.status}`);
          return;
        }
        setState("Live");
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let rest = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const parts = (rest + value).split("\n");
          rest = parts.pop() ?? "";
          const fresh = parts.filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
          if (fresh.length && !pausedRef.current) setLines((old) => [...fresh.reverse(), ...old].slice(0, KEEP));
        }
        setState("Ended");
      } catch (e) {
        if ((e as Error).name !== "AbortError") setState(`Tail failed: ${(e as Error).message}`);
      }
    })();
    return () => controller.abort();
  }, [stream, filter]);

  return (
    <div class="tail">
      <form class="toolbar" onSubmit={(e) => {
        e.preventDefault();
        set({ filter: ((e.target as HTMLFormElement).elements.namedItem("filter") as HTMLInputElement).value });
      }}>
        <label>Stream{" "}
          <select value={stream} onChange={(e) => set({ stream: (e.target as HTMLSelectElement).value })}>
            {all.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
          </select>
        </label>
        <input name="filter" type="search" class="words" placeholder="Words every record must hold"
          aria-label="Tail filter" defaultValue={filter} key={filter} />
        <button type="submit">Apply</button>
        <button type="button" onClick={() => setPaused(!paused)}>{paused ? "Resume" : "Pause"}</button>
        <span class="status" role="status">{paused ? "Paused" : state}</span>
      </form>
      <ol class="tail-lines" aria-label="Live records">
        {lines.map((l, i) => (
          <li key={`${l._timestamp}-${i}`}>
            <time>{new Date(Number(l._timestamp) / 1000).toISOString()}</time> {JSON.stringify(l)}
          </li>
        ))}
      </ol>
    </div>
  );
}
