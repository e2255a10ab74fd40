import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./scripted-server-main.ts', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The base URL the process prints, then stops it. */
function startAndStop(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, ...env } });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = /SCRIPTED_OPENAI_BASE_URL=(\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        resolve(url);
      }
    });
    child.on('exit', () => reject(new Error(`the scripted server exited without a URL: ${out}`)));
  });
}

describe('the scripted server as a process', () => {
  it('leaves PORT to the API (PORT=18710 npm start gave the API port to it), and takes AUTOLAB_SCRIPTED_PORT', async () => {
    const apiPort = await freePort();
    const own = await freePort();
    const url = await startAndStop({ PORT: String(apiPort), AUTOLAB_SCRIPTED_PORT: String(own) });
    expect(new URL(url).port).toBe(String(own));
    const any = await startAndStop({ PORT: String(apiPort) });
    expect(new URL(any).port).not.toBe(String(apiPort));
  }, 60_000);
});
