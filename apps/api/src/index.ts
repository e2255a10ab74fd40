export { type ApiDeps, buildApp } from './app.js';
export { type ApiConfig, loadApiConfig } from './env.js';
export { API_ERRORS, ApiError } from './errors.js';
export { openApiDocument } from './openapi-document.js';
export { type RunningApi, startApi } from './server.js';
