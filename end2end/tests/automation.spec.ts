// Collections automation end to end: rules → scheduler → mail → inbox → dashboard. The e2e
// server runs reminders only on demand (SETTLE_REMIND_EVERY_MINUTES=0), so the demo's
// invoices are untouched until this test runs `settle remind --now`.
import { test, expect } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { MAIL_DIR, settle, settleWithInput, staffSignIn } from "../settle";

const reminderMails = () =>
  fs.existsSync(MAIL_DIR)
    ? fs.readdirSync(MAIL_DIR).filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(fs.readFileSync(path.join(MAIL_DIR, f), "utf8")) as { subject: string })
        .filter((m) => /coming due|^Past due:|^Second notice:/.test(m.subject)).length
    : 0;

test("an admin edits the default rule, previews and saves; the scheduler emails and opens call tasks; a collector logs a call with a promise", async ({ page, browser }) => {
  test.setTimeout(180_000);
  await staffSignIn(page, "e2e-rules-admin@settle.test", "admin");
  await page.goto("/staff/rules");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 45_000 });
  await expect(page.getByTestId("rules")).toContainText("Standard reminders");

  // First outreach at 12 days instead of 14; an impossible day count is refused first.
  const first = page.getByTestId("step-0");
  await first.getByRole("spinbutton", { name: "Days" }).fill("400");
  await expect(page.getByTestId("rule-invalid")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save rule" })).toBeDisabled();
  await first.getByRole("spinbutton", { name: "Days" }).fill("12");
  await page.getByRole("button", { name: "Preview today" }).click();
  await expect(page.getByTestId("dry-run")).toBeVisible();
  const previewEmails = Number(await page.getByTestId("dry-run-emails").textContent());
  expect(previewEmails).toBeGreaterThan(0);
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.getByTestId("rule-saved")).toContainText("version 2");

  // The scheduler, on demand: emails go out through the outbox, call tasks open.
  const report = settle("remind", "--now");
  const queued = Number(/Emails were queued: (\d+)/.exec(report)?.[1] ?? "0");
  expect(queued).toBeGreaterThan(0);
  // The server's mail worker delivers them to the SMTP sink; a second run sends nothing.
  await expect.poll(reminderMails, { timeout: 60_000 }).toBe(queued);
  expect(settle("remind", "--now")).toContain("Emails were queued: 0 ");

  // Dashboard before the call.
  settleWithInput("a long e2e password\n", "staff", "add", "--email", "casey@settle.test", "--name", "Casey Caller", "--role", "collector", "--password-stdin");
  const collector = await (await browser.newContext()).newPage();
  await staffSignIn(collector, "casey@settle.test", "collector");
  await collector.goto("/staff");
  const openPromises = Number(await collector.getByTestId("kpi-promises-open").textContent());

  // New call tasks go to each account's collector; the admin puts one back in the pool.
  // An account no other journey uses (the promises journey expects Cascade Foods untouched).
  await page.goto("/staff/inbox?kind=call&status=open&q=Delta+Marine");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 45_000 });
  const pooled = page.locator("[data-testid=task-row][data-kind=call]").first();
  const id = await pooled.getAttribute("data-task-id");
  await pooled.getByTestId("work-task").click();
  await page.getByTestId("assign-select").selectOption({ label: "Nobody" });
  await page.getByTestId("assign-task").click();
  await expect(page.locator(`[data-testid=task-row][data-task-id="${id}"]`).getByTestId("claim-task")).toBeVisible();

  // Casey claims it from the unassigned calls and logs the call with a promise.
  await collector.goto("/staff/inbox?kind=call&assignee=none");
  await expect(collector.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 45_000 });
  await collector.locator(`[data-testid=task-row][data-task-id="${id}"]`).getByTestId("claim-task").click();
  await collector.goto("/staff/inbox?kind=call&assignee=me");
  await expect(collector.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 45_000 });
  const call = collector.locator(`[data-testid=task-row][data-task-id="${id}"]`);
  await expect(call.getByTestId("task-assignee")).toContainText("Casey Caller");
  await call.getByTestId("work-task").click();
  await collector.getByTestId("call-outcome").selectOption("promised");
  await collector.getByTestId("promise-invoice").first().check();
  await collector.getByTestId("promise-amount").fill("10.00");
  const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
  await collector.getByTestId("promise-date").fill(inAWeek);
  await collector.getByTestId("log-call-submit").click();
  await expect(collector.getByTestId("inbox-message")).toContainText("promise");

  await collector.goto("/staff");
  await expect(collector.getByTestId("kpi-promises-open")).toHaveText(String(openPromises + 1));
});
