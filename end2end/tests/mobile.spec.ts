import { test, expect } from "@playwright/test";
import { freshLink, DEMO_CONTACT } from "../settle";

test("the overview fits a phone screen without sideways scrolling", async ({ page }) => {
  await page.goto(freshLink(DEMO_CONTACT));
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page.getByTestId("balance")).toBeVisible();
  // Measure the page as it is shown: the browser paints nothing before the stylesheet has
  // loaded, but scripts can measure the unstyled layout before then (a busy machine did).
  await page.waitForLoadState("load");
  await expect.poll(() => page.evaluate(() => document.styleSheets.length)).toBeGreaterThan(0);
  // The elements that reach past the screen's right edge, innermost first, so a failure names them.
  const overflowing = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    return Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .filter((el) => !Array.from(el.children).some((c) => c.getBoundingClientRect().right > width + 0.5))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} right=${Math.round(el.getBoundingClientRect().right)} text="${(el.textContent ?? "").trim().slice(0, 40)}"`);
  });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `wider than the screen: ${overflowing.join("; ")}`).toBeLessThanOrEqual(0);
});
