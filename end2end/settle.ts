// How the browser tests reach Settle: the environment of the server under test, and
// the `settle` command line run against the same database.
import { execFileSync } from "node:child_process";
import { expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

export const PORT = Number(process.env.E2E_PORT ?? 3100);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
export const DATABASE = process.env.E2E_DATABASE === "postgres" ? "postgres" : "sqlite";
export const DATA_DIR = path.resolve(__dirname, ".data", `${DATABASE}-${PORT}`);
/** Where the SMTP sink beside the server under test saves what it receives. */
export const MAIL_DIR = path.join(DATA_DIR, "mail");
export const SMTP_PORT = Number(process.env.E2E_SMTP_PORT ?? 2626);
const ROOT = path.resolve(__dirname, "..");

function postgresUrl(): string {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error("E2E_DATABASE=postgres needs TEST_DATABASE_URL");
  const url = new URL(admin);
  url.pathname = `/settle_e2e_${PORT}`;
  return url.toString();
}

/** The environment `settle` runs with in the browser tests. */
export function serverEnv(): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    SETTLE_DATA_DIR: DATA_DIR,
    DATABASE_URL: DATABASE === "postgres" ? postgresUrl() : `sqlite://${DATA_DIR}/settle.db?mode=rwc`,
    LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
    LEPTOS_SITE_ROOT: path.join(ROOT, "target", "site"),
    SETTLE_PUBLIC_URL: BASE_URL,
    // Reminders only when a test runs `settle remind --now`, so every journey starts from the demo as loaded.
    SETTLE_REMIND_EVERY_MINUTES: "0",
    SETTLE_SMTP_URL: `smtp://127.0.0.1:${SMTP_PORT}`,
    E2E_MAIL_DIR: MAIL_DIR,
    E2E_SMTP_PORT: String(SMTP_PORT),
    E2E_DB_NAME: `settle_e2e_${PORT}`,
    SETTLE_SECRET_KEY: "5e771e5e771e5e771e5e771e5e771e5e771e5e771e5e771e5e771e5e771e0000",
    RUST_LOG: "warn",
  };
}

/** Runs the `settle` binary with the server's environment and returns its output. */
export function settle(...args: string[]): string {
  return execFileSync(path.join(ROOT, "target", "debug", "settle"), args, { env: serverEnv(), encoding: "utf8" });
}

/** Runs `settle` with `input` on standard input. */
export function settleWithInput(input: string, ...args: string[]): string {
  return execFileSync(path.join(ROOT, "target", "debug", "settle"), args, { env: serverEnv(), encoding: "utf8", input });
}

/** A message the SMTP sink received, as it saved it. */
export interface Mail {
  file: string;
  rcpt_tos: string[];
  message_id: string;
  subject: string;
  text: string;
  html: string | null;
}

/** Every message the sink has received for `to`, oldest first. */
export function mailTo(to: string): Mail[] {
  if (!fs.existsSync(MAIL_DIR)) return [];
  return fs
    .readdirSync(MAIL_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ file: f, ...JSON.parse(fs.readFileSync(path.join(MAIL_DIR, f), "utf8")) }) as Mail)
    .filter((m) => m.rcpt_tos.some((r) => r.toLowerCase() === to.toLowerCase()));
}

/** The links to this Settle in a message's text part. */
export function linksIn(mail: Mail): string[] {
  return mail.text.match(new RegExp(`${BASE_URL}/l/[A-Za-z0-9_-]+`, "g")) ?? [];
}

/** A fresh magic link for a contact, as staff would send it. */
export function freshLink(email: string, purpose = "portal", ...more: string[]): string {
  return settle("link", "--email", email, "--purpose", purpose, ...more).trim();
}

export const DEMO_CONTACT = "ap@acme-hardware.test";

/** Opens a fresh portal link for `email`, presses its button and waits for hydration. */
export async function signIn(page: Page, email: string): Promise<void> {
  await page.goto(freshLink(email));
  await expect(page.getByRole("heading", { name: "Sign in to your account" })).toBeVisible();
  await page.getByRole("button", { name: "Continue to your account" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

/** Dollars in a money cell such as "$1,234.56". */
export const money = (text: string | null): number => Number((text ?? "").replace(/[^\d.-]/g, ""));

/** Adds a staff user with `password` (once per server) and signs `page` in as them. */
export async function staffSignIn(page: Page, email: string, role = "collector", password = "a long e2e password"): Promise<void> {
  try {
    settleWithInput(`${password}\n`, "staff", "add", "--email", email, "--name", `E2E ${role}`, "--role", role, "--password-stdin");
  } catch {
    // Added by an earlier test against this server.
  }
  await page.goto("/staff/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff$/);
}
