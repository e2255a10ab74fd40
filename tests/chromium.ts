import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The dashboard's tests in a real Chromium: the browser, a fresh build of apps/web, and what a page must not do. */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WEB = fileURLToPath(new URL('../apps/web', import.meta.url));

/** Newest modification time under a path (files only). */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Builds apps/web when its sources are newer than dist (the same rule as build_web in scripts/lib.sh). */
export function buildWebIfStale(): void {
  const sources = Math.max(...['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newest(join(WEB, p))));
  const built = newest(join(WEB, 'dist/index.html'));
  if (built >= sources) return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: WEB, stdio: 'inherit' });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What went wrong in a page, collected as it happens: each list must stay empty. */
export interface PageTrouble {
  pageErrors: string[];
  /** The page's CSP (same-origin scripts and styles) refused something: the app, its chart library or injected text. */
  cspViolations: string[];
  dialogs: string[];
}

export function watchPage(page: Page): PageTrouble {
  const trouble: PageTrouble = { pageErrors: [], cspViolations: [], dialogs: [] };
  page.on('pageerror', (err) => trouble.pageErrors.push(err.message));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) trouble.cspViolations.push(m.text());
  });
  page.on('dialog', (dialog) => {
    trouble.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return trouble;
}
