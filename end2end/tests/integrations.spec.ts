import { test, expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { staffSignIn } from "../settle";

const WEBHOOK_ACCOUNT = "Summit Dental";

async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

test("an admin creates an API key, the ERP reads with it, and a revoked key is refused", async ({ page, request }) => {
  await staffSignIn(page, "e2e-api-admin@settle.test", "admin");
  await page.goto("/staff/api-keys");
  await hydrated(page);
  await page.getByLabel("Name").fill("E2E connector");
  await page.getByLabel("Scope").selectOption("read");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = await page.getByLabel("The key (select it and copy)").inputValue();
  expect(key).toMatch(/^settle_/);
  const row = page.getByTestId("api-keys").getByRole("row").filter({ hasText: "E2E connector" });
  await expect(row).toBeVisible();
  // The list shows only the key's start.
  await expect(page.getByTestId("api-keys")).not.toContainText(key);

  const auth = { Authorization: `Bearer ${key}` };
  const accounts = await request.get("/api/v1/accounts?limit=2", { headers: auth });
  expect(accounts.status()).toBe(200);
  const body = await accounts.json();
  expect(body.data).toHaveLength(2);
  expect(body.next_cursor).toBeTruthy();
  // A read key may not write.
  const write = await request.post("/api/v1/payments", { headers: auth, data: {} });
  expect(write.status()).toBe(403);
  expect(write.headers()["content-type"]).toContain("application/problem+json");

  await row.getByRole("button", { name: "Revoke…" }).click();
  await row.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(page.getByTestId("api-keys").getByRole("row").filter({ hasText: "E2E connector" })).toContainText(/revoked/i);
  const refused = await request.get("/api/v1/accounts?limit=2", { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).status).toBe(401);
});

test("an admin registers a webhook; a staff edit is delivered signed, and the page shows it delivered", async ({ page }) => {
  // The delivery worker looks for due deliveries every 5 seconds.
  test.setTimeout(90_000);
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("thanks");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  try {
    await staffSignIn(page, "e2e-hooks-admin@settle.test", "admin");
    await page.goto("/staff/webhooks");
    await hydrated(page);
    const url = page.getByTestId("endpoint-url");
    await url.fill("http://erp.example.com/hooks");
    await expect(page.getByTestId("endpoint-url-error")).not.toBeEmpty();
    await url.fill(`http://127.0.0.1:${port}/hooks`);
    await expect(page.getByTestId("endpoint-url-error")).toBeEmpty();
    await page.getByTestId("add-endpoint-submit").click();
    const secret = (await page.getByTestId("webhook-secret-value").textContent())?.trim() ?? "";
    expect(secret.length).toBeGreaterThan(16);

    // A staff edit of an account's website is a profile change.
    await page.goto(`/staff/accounts?q=${encodeURIComponent(WEBHOOK_ACCOUNT)}`);
    await page.getByTestId("accounts").getByRole("link", { name: WEBHOOK_ACCOUNT }).click();
    await hydrated(page);
    const website = page.locator('.inline-field[data-record=account][data-field="website"]');
    await website.getByRole("button").click();
    await website.getByLabel("Website").fill("summit-dental-care.test");
    await website.getByLabel("Website").press("Enter");
    await expect(website.getByText("✓ saved")).toBeVisible();
    await expect(website.getByRole("button")).toHaveText("https://summit-dental-care.test");

    // The worker delivers within its poll interval.
    await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const hook = received[0];
    const event = JSON.parse(hook.body);
    expect(event.type).toBe("profile.changed");
    expect(event.data.field).toBe("website");
    const timestamp = String(hook.headers["settle-webhook-timestamp"]);
    const expected = "v1=" + createHmac("sha256", secret).update(`${timestamp}.${hook.body}`).digest("hex");
    expect(hook.headers["settle-webhook-signature"]).toBe(expected);

    await page.goto("/staff/webhooks");
    const delivery = page.getByTestId("delivery").first();
    await expect(delivery.getByTestId("delivery-status")).toHaveText("Delivered");
    await expect(delivery.getByTestId("delivery-code")).toContainText("200");
  } finally {
    receiver.close();
  }
});
