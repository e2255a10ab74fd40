import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ACCESS, withAccess } from '../auth.js';

/** Where `npx vite build` in apps/web puts the dashboard. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * The dashboard's page may only load its own scripts and styles and talk to this origin; figures and the paper are
 * shown from blob: URLs made from authenticated fetches.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "frame-src 'self' blob:",
  "object-src 'none'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The single-page app's own paths (apps/web/src/lib/router.ts): each is a route of its own, so any other path is
 * the API's JSON 404 and no spelling of an API path can land on the page.
 */
const APP_PAGES = ['/', '/runs', '/new', '/runs/:id', '/compare', '/lessons', '/lessons/:id'];

const MISSING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Autolab</title>
<style>body{font:15px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2330}
code,pre{background:#f1f3f9;border-radius:6px;padding:.1rem .35rem}pre{padding:.8rem 1rem}</style></head>
<body><h1>Autolab</h1>
<p>The API is running, but the web dashboard has not been built.</p>
<pre>cd apps/web &amp;&amp; npx vite build</pre>
<p>then restart the API (<code>npm start</code> builds it by itself).
Meanwhile: the API reference is at <a href="/docs">/docs</a>.</p></body></html>
`;

/**
 * The web dashboard (apps/web/dist) at `/`: hashed assets under `/assets/` cached for a year, index.html for the
 * app's client-side routes (/runs/:id, …). Public: the page holds no data; the key it sends to /v1 is what is
 * checked. Without a build, `/` says how to make one.
 */
export const dashboardRoutes =
  (options: { distDir?: string } = {}): FastifyPluginAsync =>
  async (app) => {
    const dist = options.distDir ?? WEB_DIST_DIR;
    const indexFile = join(dist, 'index.html');
    const built = existsSync(indexFile);
    if (built && existsSync(join(dist, 'assets'))) {
      await app.register(
        withAccess(ACCESS.public, fastifyStatic, {
          root: join(dist, 'assets'),
          prefix: '/assets/',
          decorateReply: false,
          index: false,
          immutable: true,
          maxAge: '365d',
          setHeaders: (res) => res.setHeader('x-content-type-options', 'nosniff'),
        }),
      );
    }

    const page = async (reply: FastifyReply) => {
      const html = built ? await readFile(indexFile, 'utf8').catch(() => null) : null;
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', PAGE_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(html ?? MISSING_PAGE);
    };

    for (const url of APP_PAGES) {
      app.get(url, { schema: { hide: true }, config: { access: ACCESS.public } }, async (_request, reply) =>
        page(reply),
      );
    }
  };
