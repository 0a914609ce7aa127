import { test, expect } from "@playwright/test";
import { linksIn, mailTo, staffSignIn } from "../settle";

const COMPANY = "Lighthouse Books";
const CONTACT = "ap@lighthouse-books.test";

test("staff launch a campaign for one account, its contact confirms the profile, and the campaign page shows it completed", async ({ page, browser }) => {
  await staffSignIn(page, "e2e-campaigns@settle.test");
  await page.goto("/staff/campaigns");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Name", { exact: true }).fill("Lighthouse check");
  await page.getByLabel("Accounts", { exact: true }).selectOption({ label: "Every customer" });
  await page.getByLabel("Only accounts whose name or number contains (optional)").fill("no such company anywhere");
  await page.getByRole("button", { name: "Launch campaign" }).click();
  await expect(page.locator("#campaign-search-error")).toHaveText("no account has that name or number");

  await page.getByLabel("Only accounts whose name or number contains (optional)").fill(COMPANY);
  const before = mailTo(CONTACT).length;
  await page.getByRole("button", { name: "Launch campaign" }).click();
  await expect(page.getByTestId("launched")).toContainText("Launched “Lighthouse check”: 1 emails queued");
  await page.getByTestId("campaigns").getByRole("link", { name: "Lighthouse check" }).click();
  await expect(page.getByTestId("campaign-name")).toHaveText("Lighthouse check");
  await expect(page.getByTestId("funnel-targets")).toHaveText("1");
  const row = page.getByTestId("campaign-targets").getByRole("row").filter({ hasText: COMPANY });
  await expect(row).toContainText(CONTACT);
  await expect(row).toContainText("Emailed");

  // The contact follows the emailed link and confirms the details as they are.
  await expect.poll(() => mailTo(CONTACT).length, { timeout: 20_000 }).toBeGreaterThan(before);
  const mail = mailTo(CONTACT).slice(before).find((m) => m.subject.startsWith("Please check the billing details"))!;
  expect(mail.subject).toBe(`Please check the billing details of ${COMPANY}`);
  const contact = await (await browser.newContext()).newPage();
  await contact.goto(linksIn(mail)[0]);
  await contact.getByRole("button", { name: "Continue to your account" }).click();
  await expect(contact).toHaveURL(/\/portal\/profile$/);
  await expect(contact.locator("body[data-hydrated=true]")).toHaveCount(1);
  const confirmedBefore = await contact.getByTestId("verified").textContent();
  await contact.getByTestId("verify").click();
  await expect(contact.getByTestId("verified")).not.toHaveText(confirmedBefore ?? "");
  await expect(contact.getByTestId("verified")).toContainText("Last confirmed");

  await page.reload();
  await expect(page.getByTestId("funnel-opened")).toHaveText("1");
  await expect(page.getByTestId("funnel-completed")).toHaveText("1");
  await expect(row).toContainText("Completed");
  await page.getByLabel("Show").selectOption({ label: "Bounced" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/status=bounced/);
  await expect(page.getByTestId("no-targets")).toBeVisible();
});

test("staff share our profile with a contact picked by company name", async ({ page }) => {
  await staffSignIn(page, "e2e-share@settle.test");
  await page.goto("/supplier");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Share" }).click();
  await expect(page.locator("#share-contacts-error")).toHaveText("pick at least one contact");
  await page.getByLabel("Find contacts by name, email or company").fill("lighthouse");
  await page.getByTestId("contact-results").getByRole("button").filter({ hasText: CONTACT }).first().click();
  await expect(page.getByTestId("chosen-contacts")).toContainText(CONTACT);
  await expect(page.getByLabel("Find contacts by name, email or company")).toBeFocused();
  const before = mailTo(CONTACT).length;
  await page.getByRole("button", { name: "Share" }).click();
  await expect(page.getByTestId("shared")).toHaveText("Sent to 1 contact");
  await expect.poll(() => mailTo(CONTACT).length, { timeout: 20_000 }).toBeGreaterThan(before);
  expect(mailTo(CONTACT).slice(before).some((m) => m.subject.includes("where to send payments"))).toBe(true);
});
