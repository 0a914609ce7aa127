import { test, expect } from "@playwright/test";
import { linksIn, mailTo } from "../settle";

// Fairview Schools (C-10006) has no email on file: it gets letters, and registers here.
const ACCOUNT = "C-10006";
const ZIP = "97405";
const NEW_EMAIL = "billing@fairview-schools.test";

test("a letter's recipient registers with the account number and ZIP, and confirms by email", async ({ page }) => {
  await page.goto("/register");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const fill = async (zip: string) => {
    await page.getByLabel("Account number").fill(ACCOUNT);
    await page.getByLabel("Billing ZIP code, or the amount of one open invoice").fill(zip);
    await page.getByLabel("Name", { exact: true }).fill("Robin Bursar");
    await page.getByLabel("Email").fill(NEW_EMAIL);
    await page.getByRole("button", { name: /register|continue|send/i }).click();
  };
  // A wrong ZIP says nothing about which part was wrong.
  await fill("12345");
  await expect(page.getByText("We could not match that account number and detail.")).toBeVisible();
  await fill(ZIP);
  await expect(page.getByTestId("registered")).toBeVisible();

  await expect.poll(() => mailTo(NEW_EMAIL).length, { timeout: 20_000 }).toBeGreaterThan(0);
  const [link] = linksIn(mailTo(NEW_EMAIL)[0]);
  expect(link).toBeTruthy();
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "Confirm your email address" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { level: 1, name: "Fairview Schools" })).toBeVisible();
});
