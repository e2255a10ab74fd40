import { loadApiConfig } from './env.js';
import { createLogger } from './logger.js';
import { startApi } from './server.js';

const config = loadApiConfig();
const log = createLogger(config.logLevel);
const api = await startApi(config, log);
log.info({ url: api.url, docs: `${api.url}/docs` }, 'Autolab API listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    api
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  });
}
