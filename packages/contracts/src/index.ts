export * from './auth.js';
export * from './errors.js';
export * from './events.js';
export * from './paths.js';
export * from './run.js';
export * from './run-failures.js';
export * from './stages.js';
export * from './uploads.js';
