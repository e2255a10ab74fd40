export * from './errors.js';
export * from './events.js';
export * from './run.js';
export * from './paths.js';
