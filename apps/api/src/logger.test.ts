import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.js';

describe('API logs', () => {
  it('mask secrets in query strings', () => {
    expect(redactUrl('/admin/queues/login?key=alk_abc')).toBe('/admin/queues/login?key=[redacted]');
    expect(redactUrl('/x?a=1&token=t0k&b=2')).toBe('/x?a=1&token=[redacted]&b=2');
    expect(redactUrl('/v1/runs?limit=5')).toBe('/v1/runs?limit=5');
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
