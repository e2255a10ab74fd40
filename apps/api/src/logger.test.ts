import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.js';

describe('API logs', () => {
  it('mask secrets in query strings', () => {
    expect(redactUrl('/admin/queues/login?key=alk_abc')).toBe('/admin/queues/login?key=[redacted]');
    expect(redactUrl('/x?a=1&token=t0k&b=2')).toBe('/x?a=1&token=[redacted]&b=2');
    expect(redactUrl('/v1/runs?limit=5')).toBe('/v1/runs?limit=5');
    expect(redactUrl('/v1/runs?limit=5&after=0-1')).toBe('/v1/runs?limit=5&after=0-1');
  });

  it('mask secrets however the query spells them', () => {
    for (const url of [
      '/admin/queues/login?%6bey=SECRETVALUE1234',
      '/admin/queues/login?%6B%65%79=SECRETVALUE1234',
      '/admin/queues/login?KEY=SECRETVALUE1234',
      '/admin/queues/login?key%5B%5D=SECRETVALUE1234',
      '/admin/queues/login?a=1&key=x&key=SECRETVALUE1234',
      '/admin/queues/login?k%65y=SECRET%56ALUE1234',
      '/v1/runs?x=alk_SECRETVALUE12345678901234567890',
    ]) {
      const out = redactUrl(url) ?? '';
      expect(out, url).not.toMatch(/SECRET/);
      expect(out, url).toContain('[redacted]');
      expect(out.split('?')[0], url).toBe(url.split('?')[0]);
    }
  });

  it('never print the authorization header, cookies or the login key', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    // The request as Fastify hands it to the serializer.
    const req = { method: 'GET', url: '/admin/queues/login?key=alk_SECRET', host: 'h', ip: '127.0.0.1' };
    log.info({ req }, 'incoming request');
    log.info({ headers: { authorization: 'Bearer alk_SECRET', cookie: 'autolab_admin=SECRET' } }, 'headers');
    const out = lines.join('');
    expect(out).toContain('/admin/queues/login?key=[redacted]');
    expect(out).toContain('[redacted]');
    expect(out).not.toContain('SECRET');
  });
});
