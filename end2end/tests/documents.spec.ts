import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import { freshLink, DEMO_CONTACT } from "../settle";

async function signIn(page: Page) {
  await page.goto(freshLink(DEMO_CONTACT));
  await expect(page.getByRole("heading", { name: "Sign in to your account" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
}

test.describe("documents without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("filters in the URL are applied on the server", async ({ page }) => {
    await signIn(page);
    await page.goto("/portal/documents?kind=invoice");
    const rows = page.getByTestId("documents").locator("tbody tr");
    expect(await rows.count()).toBeGreaterThan(0);
    await expect(page.locator("select[name=kind]")).toHaveValue("invoice");
    for (const kind of await rows.locator("td[data-label=Kind]").allTextContents()) expect(kind).toBe("Invoice");
  });
});

test("documents: filter by kind, search a number, download the PDF", async ({ page }) => {
  await signIn(page);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("link", { name: "Documents", exact: true }).click();
  await expect(page).toHaveURL(/\/portal\/documents$/);
  await expect(page.getByRole("heading", { level: 1, name: "Documents" })).toBeVisible();
  const rows = page.getByTestId("documents").locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  await expect(page.getByTestId("documents-count")).toHaveText(/^Showing 1–\d+ of \d+$/);

  await page.locator("select[name=kind]").selectOption("invoice");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/kind=invoice/);
  await expect(rows.first()).toBeVisible();
  for (const kind of await rows.locator("td[data-label=Kind]").allTextContents()) expect(kind).toBe("Invoice");

  const number = (await rows.nth(1).locator("td[data-label=Number]").textContent())?.trim() ?? "";
  expect(number).toMatch(/^INV-/);
  await page.locator("input[name=q]").fill(number);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${number}`));
  await expect(rows).toHaveCount(1);
  await expect(rows.first().locator("td[data-label=Number]")).toHaveText(number);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    rows.first().getByRole("link", { name: `Download ${number} as PDF` }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${number}.pdf`);
  const file = await download.path();
  expect(fs.readFileSync(file).subarray(0, 4).toString("latin1")).toBe("%PDF");

  await page.locator("input[name=q]").fill("no-such-document");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("empty-documents")).toHaveText("No documents match these filters.");
});

test("without a session the documents page asks the visitor to sign in", async ({ page }) => {
  await page.goto("/portal/documents");
  await expect(page.getByRole("heading", { name: "Please sign in" })).toBeVisible();
});
