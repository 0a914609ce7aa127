import { test, expect, type Page } from "@playwright/test";
import { freshLink, mailTo, money, signIn } from "../settle";

// Accounts no other suite touches, so balances and mail counts are this suite's own.
const PAYER = "ap@granite-works.test";
const ACH_PAYER = "ap@ironwood-furniture.test";
const LINK_PAYER = "ap@juniper-labs.test";

const dollars = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

async function openRow(page: Page, index: number) {
  const row = page.getByTestId("open-invoices").locator("tbody tr").nth(index);
  return {
    row,
    number: ((await row.locator("td[data-label=Invoice]").textContent()) ?? "").trim(),
    open: money(await row.locator("td[data-label=Open]").textContent()),
  };
}

test("a customer pays two invoices through the sandbox checkout and sees the balances change", async ({ page }) => {
  const mailsBefore = mailTo(PAYER).length;
  await signIn(page, PAYER);
  const balanceBefore = money(await page.getByTestId("balance").textContent());
  await expect(page.getByTestId("pay-empty")).toBeVisible();

  const first = await openRow(page, 0);
  const second = await openRow(page, 1);
  expect(second.open).toBeGreaterThan(10);
  const panel = page.getByTestId("pay-panel");
  const firstAmount = panel.getByLabel(`Amount to pay on ${first.number}`);
  const secondAmount = panel.getByLabel(`Amount to pay on ${second.number}`);
  await second.row.getByRole("checkbox").check();
  await expect(secondAmount).toHaveValue(second.open.toFixed(2));

  // More than the open balance is marked on the field at once, and nothing can be sent.
  await secondAmount.fill((second.open + 1).toFixed(2));
  await secondAmount.blur();
  await expect(secondAmount).toHaveAttribute("aria-invalid", "true");
  await expect(panel.getByRole("alert").filter({ hasText: "the open balance" })).toBeVisible();
  await expect(page.getByTestId("pay-submit")).toBeDisabled();

  // A partial payment on the second invoice; choosing another invoice keeps it.
  await secondAmount.fill("10.00");
  await secondAmount.blur();
  await expect(secondAmount).toHaveAttribute("aria-invalid", "false");
  await first.row.getByRole("checkbox").check();
  await expect(firstAmount).toHaveValue(first.open.toFixed(2));
  await expect(secondAmount).toHaveValue("10.00");
  const total = first.open + 10;
  await expect(page.getByTestId("pay-submit")).toHaveText(`Pay ${dollars(total)}`);
  await page.getByTestId("pay-submit").click();

  await expect(page).toHaveURL(/\/pay\/sandbox\/cs_sandbox_/);
  await expect(page.getByText("Test mode.")).toBeVisible();
  await expect(page.getByTestId("sandbox-amount")).toHaveText(dollars(total));
  await page.getByRole("button", { name: "Simulate a declined card" }).click();
  await expect(page.getByRole("alert")).toContainText("declined");
  await page.getByRole("button", { name: `Pay ${dollars(total)}` }).click();

  await expect(page).toHaveURL(/\/portal\/receipt\/cs_sandbox_/);
  await expect(page.getByTestId("receipt-status")).toHaveText("Thank you — payment received");
  const lines = page.getByTestId("receipt-lines").locator("tbody tr");
  await expect(lines.filter({ hasText: first.number }).locator("td[data-label='Still open']")).toHaveText("$0.00");
  await expect(lines.filter({ hasText: second.number }).locator("td[data-label='Still open']")).toHaveText(dollars(second.open - 10));

  await page.getByRole("link", { name: "Back to my account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByTestId("balance")).toHaveText(dollars(balanceBefore - total));
  const table = page.getByTestId("open-invoices");
  await expect(table.locator("td[data-label=Invoice]", { hasText: new RegExp(`^${first.number}$`) })).toHaveCount(0);
  await expect(
    table.locator("tr", { has: page.locator("td[data-label=Invoice]", { hasText: new RegExp(`^${second.number}$`) }) }).locator("td[data-label=Open]"),
  ).toHaveText(dollars(second.open - 10));
  await expect(page.getByTestId("recent-payments").locator("tbody tr").first().locator("td[data-label=Amount]")).toHaveText(dollars(total));

  await expect.poll(() => mailTo(PAYER).length, { timeout: 20_000 }).toBeGreaterThan(mailsBefore);
  const receipt = mailTo(PAYER)[mailsBefore];
  expect(receipt.subject).toBe(`Receipt: ${dollars(total)} received`);
  expect(receipt.text).toContain(first.number);
  expect(receipt.text).toContain(second.number);
});

test("a bank debit leaves the invoice pending until the bank confirms it", async ({ page }) => {
  await signIn(page, ACH_PAYER);
  const inv = await openRow(page, 0);
  await inv.row.getByRole("checkbox").check();
  await page.getByTestId("pay-panel").getByLabel("Bank debit (ACH)").check();
  await page.getByTestId("pay-submit").click();

  await expect(page).toHaveURL(/\/pay\/sandbox\//);
  const checkout = page.url();
  await expect(page.getByLabel("Bank debit (ACH)")).toBeChecked();
  await page.getByRole("button", { name: `Pay ${dollars(inv.open)}` }).click();
  await expect(page.getByTestId("receipt-status")).toHaveText("Bank payment submitted");

  await page.goto("/portal");
  const row = page.getByTestId("open-invoices").locator("tr", { hasText: inv.number });
  await expect(row.locator("td[data-label=Status]")).toHaveText("Payment pending");

  await page.goto(checkout);
  await page.getByRole("button", { name: "The bank confirms the debit" }).click();
  await expect(page.getByTestId("receipt-status")).toHaveText("Thank you — payment received");
  await page.goto("/portal");
  await expect(page.getByTestId("open-invoices").locator("td[data-label=Invoice]", { hasText: new RegExp(`^${inv.number}$`) })).toHaveCount(0);
});

test("a Pay link opens its one invoice and nothing else of the account", async ({ browser }) => {
  // Find an open invoice of the account, as the invoice email would name it.
  const staffView = await browser.newPage();
  await signIn(staffView, LINK_PAYER);
  const inv = await openRow(staffView, 0);
  await staffView.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(freshLink(LINK_PAYER, "pay", "--invoice", inv.number));
  await expect(page.getByRole("heading", { name: "Pay your invoice" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to payment" }).click();
  await expect(page).toHaveURL(/\/portal\/pay$/);
  await expect(page.getByRole("heading", { name: `Invoice ${inv.number}` })).toBeVisible();
  await expect(page.getByTestId("pay-link-amount")).toHaveText(dollars(inv.open));

  // The link's session is not a portal session.
  await page.goto("/portal");
  await expect(page.getByRole("heading", { name: "Please sign in" })).toBeVisible();
  await page.goto("/portal/pay");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: `Pay ${dollars(inv.open)} now` }).click();
  await expect(page).toHaveURL(/\/pay\/sandbox\//);
  await page.getByRole("button", { name: `Pay ${dollars(inv.open)}` }).click();
  await expect(page.getByTestId("receipt-status")).toHaveText("Thank you — payment received");
  await page.goto("/portal/pay");
  await expect(page.getByTestId("pay-link-settled")).toBeVisible();
  await context.close();
});
