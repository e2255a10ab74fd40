/**
 * Fills the second Docker engine's image cache (tests/docker-engine.ts) in the background while `npm test` type-checks,
 * lints and runs the other test files: loading the sandbox images into a fresh cache takes 2–4 minutes on this
 * machine, which would otherwise add to the suite's time when the multi-host test starts. That test waits for this
 * to finish (its pid is in `.data/test-engine/preparing.pid` meanwhile). Started by scripts/test.sh; harmless to run
 * by hand. On SIGTERM or SIGINT it stops its dockerd before it exits.
 */

import { mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import {
  type DockerEngine,
  preparationPidFile,
  SANDBOX_IMAGES,
  startDockerEngine,
  testEngineDir,
} from './docker-engine.js';

const cacheDir = testEngineDir();
mkdirSync(cacheDir, { recursive: true });
const pidFile = preparationPidFile(cacheDir);
await writeFile(pidFile, `${process.pid}\n`);
let engine: DockerEngine | null = null;
let interrupted = false;
// Installed before the engine starts: an interrupted preparation still stops its dockerd (once the load is over).
const interrupt = () => {
  interrupted = true;
  if (engine) void engine.close().finally(() => process.exit(130));
};
process.once('SIGTERM', interrupt);
process.once('SIGINT', interrupt);
const started = Date.now();
try {
  engine = await startDockerEngine({ images: SANDBOX_IMAGES, waitForPreparation: false });
  console.info(
    `test engine ready in ${Date.now() - started} ms (images ${engine.imageLoadMs ? `loaded in ${engine.imageLoadMs} ms` : 'cached'})`,
  );
  await engine.close();
  if (interrupted) process.exit(130);
} finally {
  await rm(pidFile, { force: true });
}
