// Explorer timing for bench/README (never asserted): from pressing Run to the rows and the histogram drawn, over a
// stream and an absolute range, median of N presses after one warm-up; then 100,000 rows scrolled top to bottom,
// one step a frame, under a Chromium performance trace (written to TRACE_DIR, default /tmp): frame intervals and
// the main thread's long tasks while scrolling.
//   node e2e/timing.mjs URL EMAIL PASSWORD STREAM START_US END_US [N=5]
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";

const [url, email, password, stream, start, end, n = "5"] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(60000);
await page.goto(`${url}/ui/`);
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.evaluate(([s, a, b]) => { location.hash = `#/explore?stream=${s}&range=${a}..${b}`; }, [stream, start, end]);
await page.locator(".status", { hasText: "took" }).waitFor();
const times = [];
for (let i = 0; i <= Number(n); i++) {
  const began = Date.now();
  await page.getByRole("button", { name: "Run" }).click();
  await page.locator(".status", { hasText: "Running" }).waitFor();
  await page.locator(".status", { hasText: "took" }).waitFor();
  // The rows and the histogram are drawn in the render that shows the status; a frame later they are painted.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.locator(".histogram canvas").waitFor();
  if (i > 0) times.push(Date.now() - began);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ runs_ms: times, median_ms: times[Math.floor(times.length / 2)],
  status: await page.locator(".status").textContent() }));

await page.getByRole("button", { name: /Show up to 100,000 rows/ }).click();
await page.locator(".status", { hasText: "100000 rows" }).waitFor();
await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
/** Scrolls the rows STEP px an animation frame from the top, FRAMES frames or to the end, under a performance
 * trace; the frames' intervals and the trace's long main-thread tasks. */
async function scroll(name, step, frames) {
  await page.evaluate(() => { document.querySelector(".results").scrollTop = 0; });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline.frame",
    "toplevel"] });
  const intervals = await page.evaluate(([px, most]) => new Promise((done) => {
    const list = document.querySelector(".results");
    const out = [];
    let last = performance.now();
    function next(now) {
      out.push(now - last);
      last = now;
      if (out.length > most || list.scrollTop + list.clientHeight >= list.scrollHeight - 1) return done(out.slice(1));
      list.scrollTop += px;
      requestAnimationFrame(next);
    }
    requestAnimationFrame(next);
  }), [step, frames]);
  const trace = JSON.parse((await browser.stopTracing()).toString());
  writeFileSync(`${process.env.TRACE_DIR ?? "/tmp"}/explorer-scroll-${name}.json`, JSON.stringify(trace));
  const events = trace.traceEvents ?? trace;
  const sorted = [...intervals].sort((a, b) => a - b);
  const at = (q) => +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(1);
  console.log(JSON.stringify({ scroll: name, px_per_frame: step, frames: intervals.length,
    fps: Math.round(1000 / (intervals.reduce((a, b) => a + b, 0) / intervals.length)),
    frame_ms_median: at(0.5), frame_ms_p95: at(0.95), frame_ms_max: at(1),
    frames_over_20ms: intervals.filter((i) => i > 20).length,
    long_tasks_over_50ms: events.filter((e) => e.name === "RunTask" && e.ph === "X" && e.dur > 50_000).length }));
}
// A fast wheel (150 px a frame, 9,000 px/s) and a dragged scrollbar (5,000 px a frame: every row new each frame,
// through all 100,000 rows).
await scroll("wheel", 150, 600);
await scroll("drag", 5000, 1000);
await browser.close();
