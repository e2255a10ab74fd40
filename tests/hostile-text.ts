import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Hostile text for the dashboard's tests: what a model, its program or a user could write into a free-text field. */

/** Each payload sets `window.__pwned` (or opens a dialog) if it ever runs, and leaves a marker element if parsed. */
export const PAYLOADS = [
  '<script>window.__pwned="script"</script>',
  '<img src=x onerror="window.__pwned=\'img\'" class="hostile-marker">',
  '<a href="javascript:window.__pwned=\'link\'" class="hostile-marker">click me</a>',
  '<svg onload="alert(1)" class="hostile-marker"></svg>',
  '<iframe src="javascript:alert(2)" class="hostile-marker"></iframe>',
  '"><b class="hostile-marker">bold</b><!--',
  '[a link](javascript:alert(3))',
  '{{constructor.constructor("alert(4)")()}}',
];
export const HOSTILE = PAYLOADS.join(' ');

/** Fails when anything of the payloads became markup or ran. */
export async function expectInert(page: Page, where: string): Promise<void> {
  // A string, run in the page: this file is compiled without the DOM's types.
  const found = await page.evaluate<Record<string, unknown>>(`(() => ({
    pwned: window.__pwned ?? null,
    markers: document.querySelectorAll('.hostile-marker').length,
    badImages: document.querySelectorAll('img[src="x"], img[onerror]').length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    scriptLinks: [...document.querySelectorAll('a[href], iframe[src]')].filter((el) =>
      /^\\s*javascript:/i.test(el.getAttribute('href') ?? el.getAttribute('src') ?? '')).length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    svgs: document.querySelectorAll('svg[onload]').length,
  }))()`);
  expect(found, where).toEqual({
    pwned: null,
    markers: 0,
    badImages: 0,
    handlers: 0,
    scriptLinks: 0,
    scripts: 0,
    svgs: 0,
  });
}
