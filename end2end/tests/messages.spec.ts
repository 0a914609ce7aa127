import { test, expect } from "@playwright/test";
import { mailTo, settleWithInput, signIn } from "../settle";

const CUSTOMER = "ap@harbor-logistics.test";

test("a customer sends a message, staff reply, and the reply arrives by email and in the portal", async ({ browser }) => {
  const customer = await browser.newPage();
  await signIn(customer, CUSTOMER);
  await customer.getByRole("link", { name: "Send us a message" }).click();
  await expect(customer).toHaveURL(/\/portal\/messages$/);
  await expect(customer.getByTestId("no-messages")).toBeVisible();

  await customer.getByRole("button", { name: "Send" }).click();
  await expect(customer.locator("#message-body-error")).toHaveText("write a message first");
  const question = `Could you send the proof of delivery for last month? (${Date.now()})`;
  await customer.getByRole("textbox", { name: "Message" }).fill(question);
  await customer.getByRole("button", { name: "Send" }).click();
  await expect(customer.getByTestId("message-sent")).toBeVisible();
  await expect(customer.getByTestId("thread").getByTestId("message")).toHaveCount(1);
  await expect(customer.getByRole("textbox", { name: "Message" })).toHaveValue("");

  settleWithInput("messages e2e password\n", "staff", "add", "--email", "e2e-collector@settle.test", "--name", "Cole Lector", "--role", "collector", "--password-stdin");
  const staff = await (await browser.newContext()).newPage();
  await staff.goto("/staff/sign-in");
  await staff.getByLabel("Email").fill("e2e-collector@settle.test");
  await staff.getByLabel("Password").fill("messages e2e password");
  await staff.getByRole("button", { name: "Sign in" }).click();
  await expect(staff).toHaveURL(/\/staff$/);
  await staff.getByRole("link", { name: "Customer messages" }).click();
  const thread = staff.getByTestId("threads").locator("tr", { hasText: "Harbor Logistics" });
  await expect(thread.locator("td[data-label=Status]")).toHaveText("awaiting reply");
  await thread.getByRole("link").click();
  await expect(staff.getByTestId("message")).toContainText(question);
  await expect(staff.locator("body[data-hydrated=true]")).toHaveCount(1);

  const mailsBefore = mailTo(CUSTOMER).length;
  const answer = "Attached to your account's documents now. Kind regards, Cole";
  await staff.getByRole("textbox", { name: "Message" }).fill(answer);
  await staff.getByRole("button", { name: "Send reply" }).click();
  await expect(staff.getByTestId("reply-sent")).toBeVisible();
  await expect(staff.getByTestId("message")).toHaveCount(2);

  await expect.poll(() => mailTo(CUSTOMER).length, { timeout: 20_000 }).toBeGreaterThan(mailsBefore);
  const mail = mailTo(CUSTOMER)[mailsBefore];
  expect(mail.subject).toContain("replied to your message");
  expect(mail.text).toContain(answer);

  await customer.reload();
  const messages = customer.getByTestId("thread").getByTestId("message");
  await expect(messages).toHaveCount(2);
  await expect(messages.nth(1)).toContainText("Cole Lector");
  await expect(messages.nth(1)).toContainText(answer);
});
