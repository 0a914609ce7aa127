// CSV import from the staff page: a dry run first, its report on the page and as CSV, then
// the same file applied, and applying it again changes nothing; a big file shows the
// server's progress (rows processed of the total) while it is checked.
import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_DIR, staffSignIn } from "../settle";

const FIXTURES = path.resolve(__dirname, "..", "fixtures");

async function openImport(page: Page): Promise<void> {
  await page.goto("/staff/import");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1, { timeout: 45_000 });
  await expect(page.getByRole("heading", { name: "Import from the ERP" })).toBeVisible();
}

/** Chooses `file` as `kind` and presses Upload (the dry-run box as it is). */
async function upload(page: Page, kind: string, file: string): Promise<void> {
  await page.getByLabel("What the file holds").selectOption(kind);
  await page.getByLabel("File", { exact: true }).setInputFiles(file);
  await page.getByRole("button", { name: "Upload" }).click();
}

test("a dry run reports every rejected row on the page and as a CSV download, and applies nothing", async ({ page }) => {
  test.setTimeout(120_000);
  await staffSignIn(page, "e2e-import@settle.test", "collector");
  await openImport(page);
  await expect(page.getByLabel(/Check only/)).toBeChecked();

  await upload(page, "invoices", path.join(FIXTURES, "import-invoices-rejects.csv"));
  await expect(page).toHaveURL(/\/staff\/import\?run=\d+$/);
  const run = page.getByTestId("import-run");
  await expect(run).toHaveAttribute("data-status", "checked", { timeout: 60_000 });
  await expect(page.getByTestId("import-rejected")).toHaveText("2");
  await expect(page.getByTestId("import-created")).toHaveText("1");
  const rejects = page.getByTestId("import-rejects");
  await expect(rejects.locator("tbody tr")).toHaveCount(2);
  await expect(rejects.locator("tbody tr").nth(0)).toContainText("account_number");
  await expect(rejects.locator("tbody tr").nth(1)).toContainText("invoice_date");
  // A file with rejected rows is not offered for applying.
  await expect(page.getByTestId("import-apply")).toHaveCount(0);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("import-report-csv").click()]);
  expect(download.suggestedFilename()).toMatch(/^import-\d+-report\.csv$/);
  const csv = fs.readFileSync((await download.path())!, "utf8").trim().split(/\r?\n/);
  expect(csv[0]).toBe("line,column,reason");
  expect(csv.slice(1).map((l) => l.split(",").slice(0, 2).join(","))).toEqual(["3,account_number", "4,invoice_date"]);

  // The run is listed with its counts; a dry run changes nothing.
  const id = /run=(\d+)/.exec(page.url())?.[1];
  await expect(page.getByTestId(`import-run-${id}`)).toContainText("Checked");
  await expect(page.getByTestId("import-outcome")).toContainText("Nothing was changed");
});

test("a clean dry run is applied from the page; applying the same file again changes nothing", async ({ page }) => {
  test.setTimeout(120_000);
  await staffSignIn(page, "e2e-import@settle.test", "collector");
  await openImport(page);
  const file = path.join(FIXTURES, "import-accounts.csv");

  await upload(page, "accounts", file);
  const run = page.getByTestId("import-run");
  await expect(run).toHaveAttribute("data-status", "checked", { timeout: 60_000 });
  await expect(page.getByTestId("import-created")).toHaveText("3");
  await expect(page.getByTestId("import-rejected")).toHaveText("0");
  await expect(page.getByTestId("import-no-rejects")).toBeVisible();
  await expect(page.getByTestId("import-outcome")).toContainText("Nothing was changed yet");
  const checkedUrl = page.url();

  await page.getByRole("button", { name: "Apply this file" }).click();
  await expect(page).not.toHaveURL(checkedUrl);
  await expect(run).toHaveAttribute("data-status", "applied", { timeout: 60_000 });
  await expect(page.getByTestId("import-created")).toHaveText("3");
  await page.goto("/staff/accounts?q=Harbor+Supply");
  await expect(page.getByText("Harbor Supply Co").first()).toBeVisible();

  // The same file again, applied straight away: every row is unchanged.
  await openImport(page);
  await page.getByLabel(/Check only/).uncheck();
  await upload(page, "accounts", file);
  await expect(run).toHaveAttribute("data-status", "applied", { timeout: 60_000 });
  await expect(page.getByTestId("import-unchanged")).toHaveText("3");
  await expect(page.getByTestId("import-created")).toHaveText("0");
  await expect(page.getByTestId("import-updated")).toHaveText("0");
});

test("a big file shows the server's progress while it is checked, then its report", async ({ page }) => {
  test.setTimeout(180_000);
  const rows = 300_000;
  const big = path.join(DATA_DIR, "e2e-big-accounts.csv");
  const out = fs.createWriteStream(big);
  out.write("external_id,account_number,legal_name\n");
  for (let i = 1; i <= rows; i++) out.write(`E2E-BIG-${i},E2E-BIG-${String(i).padStart(6, "0")},Big Import Customer ${i}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));

  await staffSignIn(page, "e2e-import@settle.test", "collector");
  await openImport(page);
  await upload(page, "accounts", big);
  const progress = page.getByTestId("import-progress");
  await expect(progress).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("import-progress-text")).toContainText(/of 300,000 rows|Counting the rows/);
  const max = Number(await progress.getAttribute("max"));
  if (max > 0) {
    expect(max).toBe(rows);
    expect(Number(await progress.getAttribute("value"))).toBeLessThanOrEqual(rows);
  }
  await expect(page.getByTestId("import-run")).toHaveAttribute("data-status", "checked", { timeout: 150_000 });
  await expect(page.getByTestId("import-created")).toHaveText("300,000");
  fs.rmSync(big, { force: true });
});
