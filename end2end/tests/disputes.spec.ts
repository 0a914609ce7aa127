import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_DIR, mailTo, money, settleWithInput, signIn } from "../settle";

// Keystone Auto's newest invoice has 200 lines (see `demo::LONG_INVOICE_ACCOUNT`).
const CUSTOMER = "ap@keystone-auto.test";
const INVOICE = "INV-10011-0001";

const dollars = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const round2 = (n: number) => Math.round(n * 100) / 100;

async function openInvoice(page: Page) {
  await page.goto(`/portal/documents?q=${INVOICE}`);
  await page.getByRole("link", { name: INVOICE, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Invoice ${INVOICE}` })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 45_000 });
}

const row = (page: Page, n: number) => page.locator(`tr[data-testid=line][data-line="${n}"]`);

async function disputedCells(page: Page, lines: number[]): Promise<number> {
  let sum = 0;
  for (const n of lines) sum += money(await row(page, n).getByTestId("line-disputed").textContent());
  return round2(sum);
}

// The measurement runs first: the journey below disputes and pays most of this invoice.
test("selecting a line and typing an amount on a 200-line invoice paints quickly", async ({ page }) => {
  await signIn(page, CUSTOMER);
  await openInvoice(page);
  await expect(page.locator("tr[data-testid=line]")).toHaveCount(200);
  // Event Timing: each interaction's time from input to the next paint.
  await page.evaluate(() => {
    (window as any).__events = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as any[]) (window as any).__events.push({ name: e.name, duration: e.duration });
    }).observe({ type: "event", durationThreshold: 0, buffered: false } as any);
  });
  const client = await page.context().newCDPSession(page);
  await client.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await page.getByTestId("dispute-toggle").click();
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
  const events: { name: string; duration: number }[] = await page.evaluate(() => (window as any).__events);
  await client.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  const of = (names: string[]) => events.filter((e) => names.includes(e.name)).map((e) => e.duration);
  // No entry at all: every such event painted within Event Timing's 16 ms floor.
  const worst = (xs: number[]) => (xs.length ? Math.max(...xs) : 16);
  const result = {
    cpu_throttling: 4,
    select_line_ms: worst(of(["click", "pointerup", "change"])),
    typing_ms_max: worst(of(["keydown", "keypress", "input", "keyup"])),
    events: events.length,
  };
  console.log(`dispute interaction (200 lines, 4x CPU throttling): ${JSON.stringify(result)}`);
  fs.writeFileSync(path.join(DATA_DIR, "dispute-inp.json"), JSON.stringify(result, null, 2));
  expect(events.length).toBeGreaterThan(0);
});

test("a customer disputes three lines, attaches proof, submits, pays the rest, and staff credit one line", async ({ page, browser }) => {
  test.setTimeout(150_000);
  const mailsBefore = mailTo(CUSTOMER).length;
  await signIn(page, CUSTOMER);
  await openInvoice(page);
  const open = money(await page.getByTestId("invoice-open").textContent());
  await page.getByTestId("dispute-toggle").click();

  // Line 1 with the mouse: a price dispute; too much is marked at once, then corrected.
  await row(page, 1).getByRole("checkbox").check();
  const amount1 = page.getByLabel("Amount disputed on line 1");
  await amount1.fill("999999");
  await expect(amount1).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("invalid-lines")).toBeVisible();
  await expect(page.getByTestId("submit-dispute")).toBeDisabled();
  await amount1.fill("5.00");
  await expect(amount1).toHaveAttribute("aria-invalid", "false");
  await expect(page.getByTestId("disputed-total")).toHaveText("$5.00");
  await page.getByRole("button", { name: "Done" }).click();

  // Line 2 with the keyboard only: Space selects, Enter opens the editor, Esc closes it.
  await row(page, 2).focus();
  await page.keyboard.press("Space");
  await expect(row(page, 2)).toHaveAttribute("aria-selected", "true");
  await page.getByRole("button", { name: "Done" }).click();
  await row(page, 2).focus();
  await page.keyboard.press("Enter");
  const reason2 = page.getByLabel("Reason for line 2");
  await expect(reason2).toBeFocused();
  await reason2.selectOption("damaged");
  await page.getByLabel("Units disputed on line 2").fill("1");
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("line-editor")).toHaveCount(0);
  await expect(row(page, 2)).toBeFocused();

  // Line 3: not received at all. The Tab key stops at each line's checkbox; Enter there
  // selects the line and opens its editor.
  await page.keyboard.press("Tab");
  await expect(row(page, 2).getByRole("checkbox")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(row(page, 3).getByRole("checkbox")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(row(page, 3)).toHaveAttribute("aria-selected", "true");
  await expect(page.getByLabel("Reason for line 3")).toBeFocused();
  await page.getByLabel("Reason for line 3").selectOption("not_received");
  const qty3 = page.getByLabel("Units disputed on line 3");
  await expect(qty3).not.toHaveValue("");
  await page.getByLabel("Note for line 3").fill("Never delivered.");

  const disputed = await disputedCells(page, [1, 2, 3]);
  expect(disputed).toBeGreaterThan(5);
  await expect(page.getByTestId("disputed-total")).toHaveText(dollars(disputed));
  await expect(page.getByTestId("undisputed-total")).toHaveText(dollars(round2(open - disputed)));

  // The draft survives a reload.
  await page.reload();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await expect(page.getByTestId("disputed-total")).toHaveText(dollars(disputed));
  for (const n of [1, 2, 3]) await expect(row(page, n)).toHaveAttribute("aria-selected", "true");

  // Attachments are checked by content: a text file named .pdf is refused, a real PDF kept.
  await page.getByTestId("attach").setInputFiles({ name: "proof.pdf", mimeType: "application/pdf", buffer: Buffer.from("just text") });
  await expect(page.getByText("only PDF files and photos")).toBeVisible();
  const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
  await page.getByTestId("attach").setInputFiles({ name: "delivery-note.pdf", mimeType: "application/pdf", buffer: pdf });
  await expect(page.getByTestId("attached-files").locator("li")).toHaveCount(1);
  await expect(page.getByTestId("attached-files")).toContainText("delivery-note.pdf");

  await page.getByTestId("submit-dispute").click();
  const dispute = page.getByTestId("dispute").first();
  await expect(dispute.getByTestId("dispute-status")).toHaveText("being reviewed");
  await expect(page.getByTestId("invoice-disputed")).toHaveText(dollars(disputed));
  await expect(dispute).toContainText("delivery-note.pdf");
  await expect(row(page, 1).getByTestId("line-disputed")).toHaveText("under dispute");

  await expect.poll(() => mailTo(CUSTOMER).length, { timeout: 20_000 }).toBeGreaterThan(mailsBefore);
  expect(mailTo(CUSTOMER)[mailsBefore].subject).toBe(`We received your dispute of ${INVOICE} (${dollars(disputed)})`);

  // Pay the undisputed remainder through the sandbox.
  await page.getByTestId("pay-undisputed").click();
  await expect(page).toHaveURL(/\/pay\/sandbox\//);
  await page.getByRole("button", { name: `Pay ${dollars(round2(open - disputed))}` }).click();
  await expect(page.getByTestId("receipt-status")).toHaveText("Thank you — payment received");
  await openInvoice(page);
  await expect(page.getByTestId("invoice-open")).toHaveText(dollars(disputed));

  // Staff credit line 1 only.
  settleWithInput("disputes e2e password\n", "staff", "add", "--email", "e2e-disputes@settle.test", "--name", "Dee Spute", "--role", "collector", "--password-stdin");
  const staff = await (await browser.newContext()).newPage();
  await staff.goto("/staff/sign-in");
  await staff.getByLabel("Email").fill("e2e-disputes@settle.test");
  await staff.getByLabel("Password").fill("disputes e2e password");
  await staff.getByRole("button", { name: "Sign in" }).click();
  await expect(staff).toHaveURL(/\/staff$/);
  await staff.goto("/staff/disputes");
  await expect(staff.getByTestId("reason-totals")).toContainText("Damaged");
  await staff.getByTestId("disputes-queue").locator("tr", { hasText: INVOICE }).getByRole("link").first().click();
  await expect(staff.locator("body[data-hydrated=true]")).toHaveCount(1);
  const line1 = 5; // line 1 was disputed for $5.00
  await staff.getByLabel("Credit for line 2").fill("0");
  await staff.getByLabel("Credit for line 3").fill("0");
  await staff.getByLabel("Credit for line 1").fill("5.00");
  await staff.getByRole("button", { name: "Credit the amounts entered" }).click();
  await expect(staff.getByText("partially credited").or(staff.getByText("partially_credited")).first()).toBeVisible();

  // The customer sees the outcome and the lower balance.
  await openInvoice(page);
  await expect(page.getByTestId("dispute").first().getByTestId("dispute-status")).toHaveText("partly credited");
  await expect(page.getByTestId("invoice-open")).toHaveText(dollars(round2(disputed - line1)));
  await expect(page.getByTestId("invoice-disputed")).toHaveText("$0.00");
});
