import { loadWorkerConfig } from './env.js';
import { createLogger } from './logger.js';
import { startWorker } from './run-worker.js';
import { workerSecrets } from './secrets.js';

const config = loadWorkerConfig();
const log = createLogger(config.logLevel, 'autolab-worker', workerSecrets(config));
if (!config.llm.apiKey)
  log.warn('OPENAI_API_KEY is not set: model calls will be rejected unless the endpoint needs no key');
const worker = await startWorker(config, log);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: active runs are checkpointed and re-queued');
    worker
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      });
  });
}
