import { test, expect, type Page, type ConsoleMessage } from "@playwright/test";
import { freshLink, DEMO_CONTACT } from "../settle";

/** Collects console errors and uncaught exceptions so a test can assert there were none. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

async function signIn(page: Page) {
  await page.goto(freshLink(DEMO_CONTACT));
  await expect(page.getByRole("heading", { name: "Sign in to your account" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
}

test.describe("portal overview without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the link's button signs in and the overview is rendered on the server", async ({ page }) => {
    await signIn(page);
    await expect(page.getByRole("heading", { level: 1, name: "Acme Hardware" })).toBeVisible();
    await expect(page.getByTestId("balance")).toHaveText(/^\$[\d,]+\.\d\d$/);
    await expect(page.getByRole("img", { name: "Open balance by days past due" })).toBeVisible();
    const rows = page.getByTestId("open-invoices").locator("tbody tr");
    expect(await rows.count()).toBeGreaterThan(2);
  });
});

test("the overview hydrates and its controls work afterwards, with no console errors", async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);

  const rows = page.getByTestId("open-invoices").locator("tbody tr");
  const all = await rows.count();
  const late = await page.locator("[data-testid=open-invoices] tbody tr.late").count();
  expect(late).toBeGreaterThan(0);
  expect(late).toBeLessThan(all);

  await page.getByLabel(/Overdue only/).check();
  await expect(rows).toHaveCount(late);
  await page.getByLabel(/Overdue only/).uncheck();
  await expect(rows).toHaveCount(all);

  const openAmounts = async () =>
    (await page.locator("[data-testid=open-invoices] tbody td[data-label=Open]").allTextContents()).map((t) =>
      Number(t.replace(/[^\d.]/g, "")),
    );
  await page.getByLabel("Sort by").selectOption("amount");
  const sorted = await openAmounts();
  expect(sorted).toEqual([...sorted].sort((a, b) => b - a));

  expect(errors).toEqual([]);
});

test("a magic link works once; the second press shows the friendly page", async ({ page, context }) => {
  const link = freshLink(DEMO_CONTACT);
  await page.goto(link);
  // Opening the page (as a link scanner would) does not use the link up.
  await page.reload();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);

  await context.clearCookies();
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "This link can no longer be used" })).toBeVisible();
});

test("without a session the overview asks the visitor to sign in", async ({ page }) => {
  await page.goto("/portal");
  await expect(page.getByRole("heading", { name: "Please sign in" })).toBeVisible();
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/portal");
  await expect(page.getByRole("heading", { name: "Please sign in" })).toBeVisible();
});
