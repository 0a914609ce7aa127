import { test, expect, type Page } from "@playwright/test";
import { freshLink, mailTo, type Mail } from "../settle";

// An account no other suite signs in to or mails, so their counts stay untouched.
const CONTACT = "ap@cascade-foods.test";

async function signIn(page: Page) {
  await page.goto(freshLink(CONTACT));
  await expect(page.getByRole("heading", { name: "Sign in to your account" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

async function nextMail(to: string, before: number): Promise<Mail> {
  await expect.poll(() => mailTo(to).length, { timeout: 20_000, message: `mail to ${to}` }).toBeGreaterThan(before);
  return mailTo(to)[before];
}

/** A date `days` from today (UTC, as the server counts), as a date input takes it. */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const money = (text: string) => Number(text.replace(/[^\d.]/g, ""));

test("a customer promises to pay two invoices and gets a confirmation", async ({ page }) => {
  const mailsBefore = mailTo(CONTACT).length;
  await signIn(page);
  await expect(page.getByTestId("no-promises")).toBeVisible();

  const rows = page.getByTestId("open-invoices").locator("tbody tr");
  const first = rows.nth(0);
  const second = rows.nth(1);
  const expected =
    money((await first.locator("td[data-label=Open]").textContent()) ?? "") +
    money((await second.locator("td[data-label=Open]").textContent()) ?? "");
  const numbers = [
    (await first.locator("td[data-label=Invoice]").textContent())!.trim(),
    (await second.locator("td[data-label=Invoice]").textContent())!.trim(),
  ];
  const note = page.getByLabel("Note (optional)");
  await first.getByRole("checkbox").check();
  await note.fill("Paying with Friday's check run.");
  // Choosing another invoice keeps what was typed.
  await second.getByRole("checkbox").check();
  await expect(page.getByTestId("promise-selection")).toContainText("2 invoices chosen");
  await expect(note).toHaveValue("Paying with Friday's check run.");

  const amount = page.getByLabel("Amount", { exact: true });
  await expect(amount).toHaveValue(expected.toFixed(2));

  const date = page.getByLabel("Pay by");
  await date.fill(inDays(-3));
  await expect(page.locator("#promise-date-error")).toHaveText("the date cannot be in the past");
  await expect(date).toHaveAttribute("aria-invalid", "true");
  await date.fill(inDays(90));
  await expect(page.locator("#promise-date-error")).toContainText("within 60 days");
  const promised = inDays(7);
  await date.fill(promised);
  await expect(page.locator("#promise-date-error")).toHaveText("");
  await expect(date).toHaveAttribute("aria-invalid", "false");

  await page.getByRole("button", { name: "Promise to pay" }).click();
  await expect(page.getByTestId("promise-recorded")).toBeVisible();

  const promises = page.getByTestId("open-promises").locator("tbody tr");
  await expect(promises).toHaveCount(1);
  await expect(promises.first().locator("td[data-label='Pay by']")).toHaveText(promised);
  await expect(promises.first().locator("td[data-label=Amount]")).toHaveText(
    `$${expected.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
  );
  await expect(promises.first().locator("td[data-label=Status]")).toHaveText("open");
  for (const n of numbers) await expect(promises.first().locator("td[data-label=Invoices]")).toContainText(n);

  const mail = await nextMail(CONTACT, mailsBefore);
  expect(mail.subject).toContain("Your promise to pay");
  for (const n of numbers) expect(mail.text).toContain(n);
  expect(mail.text).toContain("Paying with Friday's check run.");
  expect(mail.text).toContain("Not the right person for these? Tell us who is.");

  // The promise is still listed after a reload (it was stored, not only shown).
  await page.reload();
  await expect(page.getByTestId("open-promises").locator("tbody tr")).toHaveCount(1);
});
