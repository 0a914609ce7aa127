import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { staffSignIn } from "../settle";

test("staff download one PDF of letters with statements for the accounts without email", async ({ page }) => {
  await staffSignIn(page, "e2e-letters@settle.test");
  await page.getByRole("link", { name: "Letters for accounts without email" }).click();
  await expect(page).toHaveURL(/\/staff\/letters$/);
  // The demo's five accounts without an email, and any other journey has added (an import
  // of accounts without contacts, say): the PDF must hold one letter for each row.
  const accounts = page.getByTestId("letter-accounts").locator("tbody tr");
  await expect(page.getByTestId("letter-accounts")).toContainText("C-10006");
  const listed = await accounts.count();
  expect(listed).toBeGreaterThanOrEqual(5);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-letters").click()]);
  expect(download.suggestedFilename()).toMatch(/^letters-\d{4}-\d{2}-\d{2}\.pdf$/);
  const text = execFileSync("pdftotext", ["-layout", (await download.path())!, "-"], { encoding: "utf8" });
  expect(text).toContain("C-10006");
  expect(text).toContain("Fairview Schools");
  expect(text).toContain("/register");
  expect(text.match(/Enclosure: Customer Statement/g) ?? []).toHaveLength(listed);
  expect(text).toMatch(/Statement/);
});
