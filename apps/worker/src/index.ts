export { loadWorkerConfig, type WorkerConfig } from './env.js';
export { createLogger } from './logger.js';
export { type RunningWorker, startWorker } from './run-worker.js';
export { workerSecrets } from './secrets.js';
