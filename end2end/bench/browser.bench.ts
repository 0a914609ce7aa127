// Hydration time of the portal overview and interaction-to-next-paint of dispute
// annotation on the 200-line invoice, in headless Chromium with 4x CPU throttling.
// Environment (set by scripts/bench.sh): BENCH_URL, BENCH_COOKIE (settle_session=…),
// BENCH_INVOICE_ID, BENCH_RUNS (hydration runs, median reported), BENCH_OUT (JSON file).
import { test, expect, type BrowserContext, type Page } from "@playwright/test";
import * as fs from "node:fs";

const BASE = process.env.BENCH_URL ?? "";
const [COOKIE_NAME, COOKIE_VALUE] = (process.env.BENCH_COOKIE ?? "").split(/=(.*)/s);
const INVOICE_ID = process.env.BENCH_INVOICE_ID ?? "";
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? "1"));
const THROTTLING = 4;

async function signedIn(context: BrowserContext) {
  await context.addCookies([{ name: COOKIE_NAME, value: COOKIE_VALUE, url: BASE }]);
}

async function throttle(context: BrowserContext, page: Page, rate: number) {
  const client = await context.newCDPSession(page);
  await client.send("Emulation.setCPUThrottlingRate", { rate });
  return client;
}

// Milliseconds from navigation start to the "settle:hydrated" mark the frontend sets.
async function hydratedAt(page: Page): Promise<number> {
  await page.waitForFunction(() => performance.getEntriesByName("settle:hydrated").length > 0, null, {
    timeout: 120_000,
  });
  return page.evaluate(() => performance.getEntriesByName("settle:hydrated")[0].startTime);
}

const POINTER = ["pointerdown", "pointerup", "mousedown", "mouseup", "click"];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (page: Page, n: number) => page.locator(`tr[data-testid=line][data-line="${n}"]`);

test("hydration of the overview and dispute annotation on a 200-line invoice", async ({ browser }) => {
  expect(BASE && COOKIE_VALUE && INVOICE_ID, "BENCH_URL, BENCH_COOKIE and BENCH_INVOICE_ID").toBeTruthy();

  // Each run a fresh context: nothing cached, as on a customer's first visit.
  const hydrated: number[] = [];
  let firstPage = { bytes: 0, requests: 0 };
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    await signedIn(context);
    const page = await context.newPage();
    await throttle(context, page, THROTTLING);
    await page.goto("/portal");
    await expect(page.getByTestId("open-invoices")).toBeVisible();
    hydrated.push(await hydratedAt(page));
    // What the first visit transferred, compressed as sent (Chromium asks for brotli):
    // the HTML and every script, wasm module and stylesheet it loaded.
    firstPage = await page.evaluate(() => {
      const entries = [
        ...performance.getEntriesByType("navigation"),
        ...performance.getEntriesByType("resource"),
      ] as PerformanceResourceTiming[];
      return { bytes: entries.reduce((sum, e) => sum + e.encodedBodySize, 0), requests: entries.length };
    });
    await context.close();
  }

  // Event Timing: each interaction's time from input to the next paint.
  const context = await browser.newContext();
  await signedIn(context);
  const page = await context.newPage();
  await page.goto(`/portal/invoices/${INVOICE_ID}`);
  await hydratedAt(page);
  await expect(page.locator("tr[data-testid=line]")).toHaveCount(200);
  await page.evaluate(() => {
    (window as any).__events = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as any[]) (window as any).__events.push({ name: e.name, duration: e.duration, startTime: e.startTime });
    }).observe({ type: "event", durationThreshold: 0, buffered: false } as any);
  });
  const client = await throttle(context, page, THROTTLING);
  // BENCH_TRACE=file.json: a Chromium performance trace of the interactions, for profiling.
  if (process.env.BENCH_TRACE) {
    await browser.startTracing(page, {
      path: process.env.BENCH_TRACE,
      categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "v8.execute"],
    });
  }
  await page.getByTestId("dispute-toggle").click();
  // Events that start after this instant belong to ticking the line, those before to the toggle.
  const tickAt: number = await page.evaluate(() => performance.now());
  await row(page, 150).getByRole("checkbox").check();
  const input = page.getByLabel("Amount disputed on line 150");
  await input.fill("");
  await input.pressSequentially("1.25", { delay: 50 });
  await expect(row(page, 150).getByTestId("line-disputed")).toHaveText("$1.25");
  // Event Timing entries arrive after the frame that painted their interaction: two frames
  // and a task later all of them have. It reports only events of 16 ms or more.
  await page.evaluate(
    () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0)))),
  );
  const events: { name: string; duration: number; startTime: number }[] = await page.evaluate(
    () => (window as any).__events,
  );
  if (process.env.BENCH_TRACE) await browser.stopTracing();
  await client.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  await context.close();

  const of = (names: string[]) => events.filter((e) => names.includes(e.name)).map((e) => e.duration);
  const pointer = (es: typeof events) =>
    es.filter((e) => [...POINTER, "change"].includes(e.name)).map((e) => e.duration);
  // No entry at all: every such event painted within Event Timing's 16 ms floor.
  const worst = (xs: number[]) => (xs.length ? Math.max(...xs) : 16);
  const result = {
    cpu_throttling: THROTTLING,
    hydrated_runs_ms: hydrated.map((x) => Math.round(x)),
    hydrated_ms: Math.round(median(hydrated)),
    first_page_bytes: firstPage.bytes,
    first_page_requests: firstPage.requests,
    select_line_ms: worst(of(["click", "pointerup", "change"])),
    // The two clicks apart: turning disputing on, then ticking line 150.
    start_disputing_ms: worst(pointer(events.filter((e) => e.startTime < tickAt))),
    tick_line_ms: worst(pointer(events.filter((e) => e.startTime >= tickAt))),
    typing_ms_max: worst(of(["keydown", "keypress", "input", "keyup"])),
    events: events.length,
  };
  console.log(`browser figures: ${JSON.stringify(result)}`);
  expect(events.length).toBeGreaterThan(0);
  if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, JSON.stringify(result, null, 2));
});
