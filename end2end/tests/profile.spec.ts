import { test, expect, type Page } from "@playwright/test";
import { freshLink, mailTo, staffSignIn } from "../settle";

const INLINE_ACCOUNT = "Oakridge Farms";
const PROFILE_CONTACT = "ap@prairie-grain.test";

async function openAccount(page: Page, name: string) {
  await page.goto(`/staff/accounts?q=${encodeURIComponent(name)}`);
  await page.getByTestId("accounts").getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

const field = (page: Page, name: string) => page.locator(`.inline-field[data-record=account][data-field="${name}"]`);

test("staff edit fields in place: a bad value is marked, a conflict offers theirs or mine", async ({ page, browser }) => {
  // Two staff members sign in and load the account: twice the usual work.
  test.setTimeout(90_000);
  await staffSignIn(page, "e2e-inline@settle.test");
  await openAccount(page, INLINE_ACCOUNT);

  // Phone: an invalid value is refused under the field, then fixed with Enter.
  await field(page, "phone").getByRole("button").click();
  const phone = field(page, "phone").getByLabel("Phone");
  await expect(phone).toBeFocused();
  await phone.fill("12");
  await phone.press("Enter");
  await expect(field(page, "phone").getByRole("alert").first()).toHaveText("a phone number has at least 7 digits");
  await expect(phone).toHaveAttribute("aria-invalid", "true");
  await phone.fill("+1 555 010 2000");
  await phone.press("Enter");
  await expect(field(page, "phone").getByRole("button")).toHaveText("+1 555 010 2000");
  await expect(field(page, "phone").getByText("✓ saved")).toBeVisible();

  // Website: leaving the field saves it.
  await field(page, "website").getByRole("button").click();
  await field(page, "website").getByLabel("Website").fill("oakridge.test");
  await field(page, "website").getByLabel("Website").press("Tab");
  await expect(field(page, "website").getByRole("button")).toHaveText("https://oakridge.test");

  // Esc cancels.
  await field(page, "segment").getByRole("button").click();
  await field(page, "segment").getByLabel("Segment").fill("nothing to keep");
  await field(page, "segment").getByLabel("Segment").press("Escape");
  await expect(field(page, "segment").getByRole("button")).not.toContainText("nothing to keep");

  // A second staff member, loaded before the first one's rename.
  const other = await (await browser.newContext()).newPage();
  await staffSignIn(other, "e2e-inline-2@settle.test");
  await openAccount(other, INLINE_ACCOUNT);

  await field(page, "display_name").getByRole("button").click();
  await field(page, "display_name").getByLabel("Name").fill("Oakridge Farms Co");
  await field(page, "display_name").getByLabel("Name").press("Enter");
  await expect(field(page, "display_name").getByRole("button")).toHaveText("Oakridge Farms Co");

  await field(other, "display_name").getByRole("button").click();
  await field(other, "display_name").getByLabel("Name").fill("Oakridge Farms LLC");
  await field(other, "display_name").getByLabel("Name").press("Enter");
  await expect(other.getByTestId("stale")).toContainText("Someone else changed this to Oakridge Farms Co");
  await other.getByRole("button", { name: "Keep mine" }).click();
  await expect(field(other, "display_name").getByRole("button")).toHaveText("Oakridge Farms LLC");

  await page.reload();
  await expect(field(page, "display_name").getByRole("button")).toHaveText("Oakridge Farms LLC");
  await expect(field(page, "phone").getByRole("button")).toHaveText("+1 555 010 2000");
});

test("a contact changes the bank details through a profile link, confirms by code, and staff approve", async ({ page, browser }) => {
  await page.goto(freshLink(PROFILE_CONTACT, "profile"));
  await expect(page.getByRole("heading", { name: "Update your company profile" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal\/profile$/);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await expect(page.getByTestId("bank-accounts")).toHaveText("none on file");

  // The W-9 we ask for: uploaded from the profile, then shown as received.
  const w9 = page.locator("[data-testid=supplied-documents] li[data-kind=w9]");
  await expect(w9.getByTestId("supplied-status")).toHaveText("missing");
  await page.getByLabel("Upload the W-9").setInputFiles({ name: "w9.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\n%%EOF\n") });
  await expect(w9.getByTestId("supplied-status")).toHaveText(/^received \d{4}-\d{2}-\d{2}$/);

  await page.getByText("Change bank details").click();
  await page.getByLabel("Account holder").fill("Prairie Grain LLC");
  await page.getByLabel("Routing number").fill("021000022");
  await expect(page.getByText("this routing number does not exist")).toBeVisible();
  await page.getByLabel("Routing number").fill("021000021");
  await expect(page.getByText("this routing number does not exist")).toHaveCount(0);
  await page.getByLabel("Account number").fill("123456789");
  const before = mailTo(PROFILE_CONTACT).length;
  await page.getByRole("button", { name: "Continue" }).first().click();
  await expect(page.getByLabel("Code from the email")).toBeVisible();

  await expect.poll(() => mailTo(PROFILE_CONTACT).filter((m) => m.subject.startsWith("Your code:")).length, { timeout: 20_000 }).toBeGreaterThan(0);
  const mail = mailTo(PROFILE_CONTACT).slice(before).find((m) => m.subject.startsWith("Your code:"))!;
  const code = mail.subject.replace(/\D/g, "");
  expect(mail.text).not.toContain("123456789");
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Confirm the change" }).click();
  // The page reloads its data: the change is listed as awaiting review.
  await expect(page.getByTestId("changes")).toContainText("bank account of Prairie Grain LLC ending 6789 — awaiting review");

  const staff = await (await browser.newContext()).newPage();
  await staffSignIn(staff, "e2e-approver@settle.test");
  await staff.goto("/staff/approvals");
  const item = staff.getByTestId("approval").filter({ hasText: "Prairie Grain" });
  await expect(item).toContainText("bank account of Prairie Grain LLC ending 6789");
  await expect(item).not.toContainText("123456789");
  await expect(staff.locator("body[data-hydrated=true]")).toHaveCount(1);
  await item.getByRole("button", { name: "Approve" }).click();
  await expect(staff.getByTestId("approval").filter({ hasText: "Prairie Grain" })).toHaveCount(0);

  await page.reload();
  await expect(page.getByTestId("bank-accounts")).toHaveText("Prairie Grain LLC ••••6789");
  await expect(page.getByTestId("changes")).toContainText("approved");
});

test("a contact makes a colleague the billing contact: code, staff approval, then the role moves", async ({ page, browser }) => {
  const contact = "ap@lakeside-hotels.test";
  await page.goto(freshLink(contact, "profile"));
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal\/profile$/);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);

  await page.getByText("Add a contact").click();
  await page.getByLabel("Name", { exact: true }).last().fill("Lee Park");
  await page.locator("#new-contact-email").fill("lee@lakeside-hotels.test");
  await page.getByRole("button", { name: "Add the contact" }).click();
  const contacts = page.getByTestId("profile-contacts");
  await expect(contacts.getByRole("row").filter({ hasText: "Lee Park" })).toBeVisible();

  await contacts.getByRole("button", { name: "Make Lee Park the billing contact" }).click();
  const email = page.getByLabel("New billing email");
  await expect(email).toHaveValue("lee@lakeside-hotels.test");
  await expect(email).toBeFocused();
  const before = mailTo(contact).length;
  await page.locator("details.sensitive[open]").filter({ has: email }).getByRole("button", { name: "Continue" }).click();
  await expect.poll(() => mailTo(contact).slice(before).filter((m) => m.subject.startsWith("Your code:")).length, { timeout: 20_000 }).toBeGreaterThan(0);
  const code = mailTo(contact).slice(before).find((m) => m.subject.startsWith("Your code:"))!.subject.replace(/\D/g, "");
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Confirm the change" }).click();
  await expect(page.getByTestId("changes")).toContainText("awaiting review");

  const staff = await (await browser.newContext()).newPage();
  await staffSignIn(staff, "e2e-billing-approver@settle.test");
  await staff.goto("/staff/approvals");
  await expect(staff.locator("body[data-hydrated=true]")).toHaveCount(1);
  await staff.getByTestId("approval").filter({ hasText: "Lakeside Hotels" }).getByRole("button", { name: "Approve" }).click();
  await expect(staff.getByTestId("approval").filter({ hasText: "Lakeside Hotels" })).toHaveCount(0);

  await page.reload();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await expect(contacts.getByRole("row").filter({ hasText: "Lee Park" })).toContainText("(billing)");
  await expect(contacts.getByRole("row").filter({ hasText: contact })).not.toContainText("(billing)");

  // The mailing address is not sensitive: checked, then saved at once.
  await page.getByText("Change the mailing address").click();
  await page.getByLabel("Street").first().fill("400 Shore Drive");
  await page.locator("#mailing-postal_code").fill("123");
  await page.getByRole("button", { name: "Save the address" }).click();
  await expect(page.getByText("a US ZIP code is 5 digits, or ZIP+4")).toBeVisible();
  await page.locator("#mailing-postal_code").fill("96740");
  await page.getByRole("button", { name: "Save the address" }).click();
  await expect(page.getByTestId("mailing-address")).toContainText("400 Shore Drive");
});
