// Browser checks of the explorer, driven by the .NET test (tests/MoleSignal.Tests/Ui) against a node it started:
//   node e2e/explorer.mjs URL EMAIL PASSWORD SCREENSHOT_DIR [VIEWER_EMAIL VIEWER_PASSWORD]
// Prints one JSON line per check ({check, ok, detail}); exits 1 when one fails. Debian's chromium (CHROMIUM to
// point elsewhere), never a downloaded browser.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";

const [url, email, password, shots, viewerEmail, viewerPassword] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(15000);
let failed = 0;

async function check(name, body) {
  try {
    const detail = await body();
    console.log(JSON.stringify({ check: name, ok: true, detail: detail ?? null }));
  } catch (e) {
    failed++;
    console.log(JSON.stringify({ check: name, ok: false, detail: String(e?.message ?? e).slice(0, 2000) }));
  }
  await page.screenshot({ path: `${shots}/${name}.png` }).catch(() => {});
}

const rows = () => page.locator(".results-row").count();
const levels = () => page.locator(".results-row .cell:nth-child(3)").allTextContents();

await check("login", async () => {
  await page.goto(`${url}/ui/`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
});

await check("query_shows_histogram_and_rows", async () => {
  await page.locator(".results-row").first().waitFor();
  const started = Date.now();
  await page.getByRole("button", { name: "Run" }).click();
  await page.locator(".status", { hasText: "took" }).waitFor();
  await page.locator(".histogram canvas").waitFor();
  const ms = Date.now() - started;
  const n = await rows();
  if (n < 10) throw new Error(`only ${n} rows drawn`);
  return { first_results_and_histogram_ms: ms, rows_in_dom: n,
    status: await page.locator(".status").textContent() };
});

await check("field_value_adds_a_filter", async () => {
  const before = await page.locator(".status").textContent();
  await page.getByRole("button", { name: /^level/ }).click();
  const list = page.getByRole("list", { name: "Top values of level" });
  await list.waitFor();
  await list.getByRole("button", { name: "ERROR", exact: true }).click();
  await page.getByRole("button", { name: /Remove filter level = ERROR/ }).waitFor();
  await page.waitForFunction((b) => {
    const s = document.querySelector(".status")?.textContent ?? "";
    return s.includes("took") && s !== b;
  }, before);
  const seen = new Set(await levels());
  if (seen.size !== 1 || !seen.has("ERROR")) throw new Error(`levels after the filter: ${[...seen]}`);
  return { before, after: await page.locator(".status").textContent() };
});

await check("histogram_drag_zooms", async () => {
  const before = new URL(page.url()).hash;
  const box = await page.locator(".histogram .u-over").boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => /range=\d+\.\.\d+/.test(location.hash));
  await page.locator(".status", { hasText: "took" }).waitFor();
  return { before, after: new URL(page.url()).hash };
});

await check("row_expands_to_json", async () => {
  await page.getByRole("button", { name: "Row 1 details" }).click();
  const json = await page.getByTestId("row-json").textContent();
  const record = JSON.parse(json);
  if (!("_timestamp" in record)) throw new Error(`no _timestamp in ${json}`);
  return { fields: Object.keys(record).length };
});

await check("live_tail_shows_a_new_record", async () => {
  await page.getByRole("link", { name: "Live tail" }).click();
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
  const message = `tail check ${Date.now()}`;
  const r = await fetch(`${url}/api/v1/ingest/app`, {
    method: "POST", body: JSON.stringify([{ level: "WARN", message }]),
    headers: { "Content-Type": "application/json",
      Authorization: "Basic " + Buffer.from(`${email}:${password}`).toString("base64") },
  });
  if (!r.ok) throw new Error(`ingest: ${r.status} ${await r.text()}`);
  await page.getByRole("list", { name: "Live records" }).getByText(message).waitFor();
  return { message };
});

await check("accessibility", async () => {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () =>
    // @ts-ignore axe is the injected axe-core
    await axe.run(document, { resultTypes: ["violations"] }));
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (serious.length) throw new Error(JSON.stringify(serious.map((v) => ({ id: v.id, nodes: v.nodes.length }))));
  return { violations: result.violations.map((v) => `${v.id} (${v.impact})`) };
});

await check("token_created_in_the_ui_works_with_curl", async () => {
  await page.getByRole("link", { name: "Admin" }).click();
  await page.getByLabel("Name").fill("ui-made");
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByRole("button", { name: "Create service token" }).click();
  const token = (await page.getByTestId("new-token").textContent()).trim();
  const out = execFileSync("curl", ["-s", "-w", "\n%{http_code}", "-H", `Authorization: Bearer ${token}`,
    "-H", "Content-Type: application/json", "-d", JSON.stringify({ sql: "SELECT count(*) AS n FROM app" }),
    `${url}/api/v1/query`], { encoding: "utf8" });
  const [body, code] = out.split("\n");
  if (code !== "200") throw new Error(`curl with the new token: ${code} ${body}`);
  await page.getByRole("cell", { name: "ui-made", exact: true }).waitFor();
  return { answer: JSON.parse(body).rows };
});

if (viewerEmail) await check("viewer_sees_no_admin_page", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Email").fill(viewerEmail);
  await page.getByLabel("Password").fill(viewerPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  if (await page.getByRole("link", { name: "Admin" }).count()) throw new Error("a viewer has an Admin link");
  await page.evaluate(() => { location.hash = "#/admin"; }); // asked for by its URL
  await page.getByRole("alert").filter({ hasText: "needs the admin role" }).waitFor();
});

await browser.close();
process.exit(failed ? 1 : 0);
