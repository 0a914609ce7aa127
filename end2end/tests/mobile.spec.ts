import { test, expect } from "@playwright/test";
import { freshLink, DEMO_CONTACT } from "../settle";

test("the overview fits a phone screen without sideways scrolling", async ({ page }) => {
  await page.goto(freshLink(DEMO_CONTACT));
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page.getByTestId("balance")).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
