import { useEffect, useState } from "preact/hooks";

/** After this long a running query is offered as a search job. */
const OFFER_JOB_AFTER_MS = 5_000;

/** While a query runs: the time it has taken so far and, once it is long, the offer to run it as a search job. */
export function QueryProgress({ onRunAsJob }: { onRunAsJob: () => void }) {
  const [started] = useState(() => performance.now());
  const [elapsed, setElapsed] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setElapsed(performance.now() - started), 100);
    return () => clearInterval(timer);
  }, []);
  return (
    <span class="progress">
      <progress aria-label="Query running" /> Running… {(elapsed / 1000).toFixed(1)} s
      {elapsed >= OFFER_JOB_AFTER_MS && (
        <>
          {" "}This is taking a while.{" "}
          <button type="button" onClick={onRunAsJob}>Run as a search job</button>
        </>
      )}
    </span>
  );
}
