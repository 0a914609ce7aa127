import { test, expect, type Page } from "@playwright/test";
import { DEMO_CONTACT, linksIn, mailTo, settleWithInput, type Mail } from "../settle";

/** Waits until the page is interactive (the wasm has hydrated it). */
async function ready(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

/** Waits for a new message to `to` (beyond the `before` already there) and returns it. */
async function nextMail(to: string, before: number): Promise<Mail> {
  await expect.poll(() => mailTo(to).length, { timeout: 20_000, message: `mail to ${to}` }).toBeGreaterThan(before);
  return mailTo(to)[before];
}

async function requestLink(page: Page, email: string): Promise<Mail> {
  const before = mailTo(email).length;
  await page.goto("/portal/sign-in");
  await ready(page);
  await page.getByLabel("Your email address").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByTestId("link-sent")).toBeVisible();
  return nextMail(email, before);
}

test("a customer asks for a link, finds it in the email, and lands on the overview", async ({ page }) => {
  const mail = await requestLink(page, DEMO_CONTACT);
  expect(mail.subject).toMatch(/sign/i);
  expect(mail.html).not.toBeNull();
  expect(mail.text).toContain("Not the right person for these? Tell us who is.");
  const [signIn] = linksIn(mail);
  await page.goto(signIn);
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { level: 1, name: "Acme Hardware" })).toBeVisible();
});

test("the one-time code from the email signs in on another device", async ({ page }) => {
  const mail = await requestLink(page, DEMO_CONTACT);
  const code = mail.text.match(/\b[A-Z0-9]{4}-[A-Z0-9]{4}\b/)?.[0];
  expect(code).toBeTruthy();
  await page.getByLabel("Email address", { exact: true }).fill(DEMO_CONTACT);
  await page.getByLabel("Code from the email").fill(code!);
  await page.getByRole("button", { name: "Sign in with the code" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByTestId("balance")).toBeVisible();
});

test("an unknown address gets the same answer and no mail", async ({ page }) => {
  await page.goto("/portal/sign-in");
  await ready(page);
  await page.getByLabel("Your email address").fill("stranger@nowhere.test");
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByTestId("link-sent")).toBeVisible();
  expect(mailTo("stranger@nowhere.test")).toHaveLength(0);
});

test("staff sign in with a password and sign out", async ({ page }) => {
  settleWithInput("a long e2e password\n", "staff", "add", "--email", "e2e-admin@settle.test", "--name", "Eve Admin", "--role", "admin", "--password-stdin");
  await page.goto("/staff/sign-in");
  await ready(page);
  await page.getByLabel("Email").fill("e2e-admin@settle.test");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("do not match");

  await page.getByLabel("Password").fill("a long e2e password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff$/);
  await expect(page.getByTestId("staff-me")).toContainText("Eve Admin (admin)");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/staff");
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
});

test("the wrong person names the right one, who confirms and gets in", async ({ page, context }) => {
  const wrong = "ap@blue-ridge-builders.test";
  const right = "robin.right@blue-ridge-builders.test";
  const mail = await requestLink(page, wrong);
  const links = linksIn(mail);
  expect(links).toHaveLength(2);
  const wrongPersonLink = links[links.length - 1];

  await page.goto(wrongPersonLink);
  await expect(page.getByRole("heading", { name: "Tell us who should receive these" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal\/wrong-person$/);
  await ready(page);
  await page.getByLabel("Name").fill("Robin Right");
  await page.getByLabel("Email").fill(right);
  await page.getByLabel("Their role").selectOption("ap");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("wrong-person-done")).toBeVisible();

  const verify = await nextMail(right, 0);
  const [verifyLink] = linksIn(verify);
  await context.clearCookies();
  await page.goto(verifyLink);
  await expect(page.getByRole("heading", { name: "Confirm your email address" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { level: 1, name: "Blue Ridge Builders" })).toBeVisible();
});

test("an admin edits the sign-in email with a preview, and the next email uses it", async ({ page }) => {
  settleWithInput("another e2e password\n", "staff", "add", "--email", "e2e-editor@settle.test", "--name", "Ed Itor", "--role", "admin", "--password-stdin");
  await page.goto("/staff/sign-in");
  await ready(page);
  await page.getByLabel("Email").fill("e2e-editor@settle.test");
  await page.getByLabel("Password").fill("another e2e password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff$/);

  await page.goto("/staff/templates");
  await ready(page);
  const editor = page.getByTestId("tpl-portal_sign_in");
  await editor.getByLabel("Subject").fill("Sign in to Northwind, {{ contact_name }}");
  await editor.getByRole("button", { name: "Preview" }).click();
  await expect(editor.getByTestId("preview")).toContainText("Sign in to Northwind, Pat Payables");
  await editor.getByRole("button", { name: "Save" }).click();
  await expect(editor.getByRole("status")).toHaveText("Saved.");

  await page.context().clearCookies();
  const mail = await requestLink(page, "ap@cascade-foods.test");
  expect(mail.subject).toMatch(/^Sign in to Northwind, /);
});
