import { ErrorBody, type PriceTable, type RoleDefaults, type SandboxImage } from '@autolab/contracts';
import type {
  ApiKeyStore,
  ArtifactStore,
  CancelSignal,
  EventHub,
  HintStore,
  LessonStore,
  RunJobData,
  RunStore,
  SearchStatsStore,
  UploadStore,
  WorkerRegistry,
} from '@autolab/store';
import type { TemplateCatalog } from '@autolab/templates';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ACCESS, type AdminSessions, authPlugin, KeyResolver, withAccess } from './auth.js';
import { answerClientError, answerFrameworkError, errorAnswer, errorBody } from './error-responses.js';
import { addBodyDeadline, type HttpTimeouts, serverTimeouts } from './http-timeouts.js';
import { type RateLimitSettings, registerRateLimit } from './rate-limit.js';
import { compiledSerializer } from './response-serializer.js';
import { commonErrorResponses } from './route-schemas.js';
import { artifactRoutes } from './routes/artifacts.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { hintRoutes } from './routes/hints.js';
import { imageRoutes } from './routes/images.js';
import { keyRoutes } from './routes/keys.js';
import { lessonRoutes } from './routes/lessons.js';
import { metricsRoutes } from './routes/metrics.js';
import { queueDashboardRoutes } from './routes/queue-dashboard.js';
import { runRoutes } from './routes/runs.js';
import { templateRoutes } from './routes/templates.js';
import { uploadRoutes } from './routes/uploads.js';

export interface ApiDeps {
  redis: Redis;
  runs: RunStore;
  queue: Queue<RunJobData>;
  artifacts: ArtifactStore;
  uploads: UploadStore;
  /** The built-in research templates (read once at start-up). */
  templates: TemplateCatalog;
  hub: EventHub;
  cancel: CancelSignal;
  workers: WorkerRegistry;
  hints: HintStore;
  lessons: LessonStore;
  /** The tenants' search statistics: the defaults of runs that leave the search policy out. */
  searchStats: SearchStatsStore;
  keys: ApiKeyStore;
  sessions: AdminSessions;
  /** false: no keys, every request is tenant `default` with admin rights (only allowed on loopback). */
  authEnabled: boolean;
  /** AUTOLAB_ADMIN_KEY: the bootstrap admin key, or null. */
  adminKey: string | null;
  /** Per-key request limit on every route that needs a key (apps/api/src/rate-limit.ts); null = none. */
  rateLimit: RateLimitSettings | null;
  /** Queued + running runs per tenant; 0 = no limit. */
  tenantMaxActiveRuns: number;
  /** The server's model and per-role defaults, for runs that name none. */
  models: { model: string; roles: RoleDefaults };
  /** What each model costs: a USD budget is refused for a run whose models have no price. */
  prices: PriceTable;
  /** The images runs may name in `sandbox.image` (AUTOLAB_PYTHON_IMAGE and AUTOLAB_SANDBOX_IMAGES). */
  sandboxImages: SandboxImage[];
  heartbeatMs: number;
  /** How long the server waits for a client (apps/api/src/http-timeouts.ts). */
  timeouts: HttpTimeouts;
  logger?: Logger | FastifyBaseLogger;
}

/** Request bodies are small JSON documents; a 1 MB goal is refused before it is parsed. */
const BODY_LIMIT_BYTES = 64 * 1024;

/** Builds the HTTP API without listening, so tests can use it in-process or on a real port. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    ...serverTimeouts(deps.timeouts),
    return503OnClosing: true,
    // Errors no route or hook sees (the router's, Node's HTTP parser's) get the same error shape.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: (err, socket) => answerClientError(deps.logger ?? null, err, socket),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compiledSerializer);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = errorAnswer(err);
    if (answer.code === 'unsupported_media_type' && request.routeOptions.config?.accepts)
      answer.message = `Send ${request.routeOptions.config.accepts}.`;
    if (answer.code === 'unavailable') request.log.debug({ err: err.message }, 'Redis unavailable; answered 503');
    else if (answer.code === 'artifact_store_unavailable')
      request.log.warn({ err: err.message }, 'artifact store unavailable; answered 503');
    else if (answer.status >= 500) request.log.error({ err }, 'request failed');
    return reply
      .status(answer.status)
      .headers(answer.headers ?? {})
      .send(errorBody(answer));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'route_not_found', message: `There is no route ${request.method} ${request.url.split('?')[0]}.` },
    }),
  );

  // An answer given before the request's body has arrived (a 401 or 413 on a POST whose body is still coming) ends
  // the connection: otherwise Node reads and discards the rest of the body for as long as the client cares to send
  // it, and the request timeout would then answer the same request a second time.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete) reply.header('connection', 'close');
    return payload;
  });
  // Before any route, so that its onRoute hook gives every route the limit (after authentication is off: no keys to
  // count).
  const unroutedLimit = deps.authEnabled && deps.rateLimit ? await registerRateLimit(app, deps.rateLimit) : null;
  // First, so that its onRoute hook sees every route (a route that declares no access rule fails ready()).
  const resolver = new KeyResolver(deps.keys, deps.adminKey);
  await app.register(authPlugin, {
    enabled: deps.authEnabled,
    sessions: deps.sessions,
    unroutedLimit,
    resolver,
  });
  // After the auth plugin's preParsing hook: a refused request's body is not read at all.
  addBodyDeadline(app, deps.timeouts.bodyMs);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      // Relative: the document describes the server that serves it, wherever it is deployed.
      servers: [{ url: '/', description: 'The server that serves this document' }],
      info: {
        title: 'Autolab API',
        version: '0.1.0',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        description:
          'Submit research goals, watch the runs live (Server-Sent Events), download papers and code. ' +
          'Every error has the shape { error: { code, message, details? } }.',
      },
      tags: [
        { name: 'runs', description: 'Research runs' },
        { name: 'events', description: 'Live progress' },
        { name: 'artifacts', description: 'Papers, code and outputs' },
        { name: 'uploads', description: 'Your own data, code and papers for runs' },
        { name: 'templates', description: 'Built-in research templates to start runs from' },
        { name: 'lessons', description: "What your tenant's runs taught, with the measurements behind it" },
        { name: 'admin', description: 'API keys and lesson sharing (admin keys only)' },
        { name: 'operations', description: 'Health' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API key (`alk_…`) from `POST /v1/admin/keys`, or the bootstrap admin key `AUTOLAB_ADMIN_KEY`. ' +
              'Every `/v1` route needs one; 401 `unauthorized` without it. Each operation names the scope it needs ' +
              '(`runs:read`, `runs:write` or `admin`; `admin` grants all); a key without it gets 403 `forbidden`.',
          },
        },
      },
    },
    // Each operation's security requirement comes from the same rule the auth plugin enforces (the route's own
    // `access`), and its list of answers from the route plus the errors every route of its kind can give.
    transform: (input) => {
      const access = input.route.config?.access;
      const own = (input.schema.response ?? {}) as Record<string, unknown>;
      const response: Record<string, unknown> = { ...commonErrorResponses(input.route) };
      for (const [status, schema] of Object.entries(own)) {
        if (!(schema === ErrorBody && response[status])) response[status] = schema;
      }
      const out = jsonSchemaTransform({ ...input, schema: { ...input.schema, response } });
      const security =
        !access || access.auth === 'public'
          ? []
          : [{ bearerAuth: access.auth === 'admin' ? ['admin'] : [access.scope] }];
      // The artifact route's wildcard is named like any other parameter (`{*}` is not a valid OpenAPI name).
      const url = out.url.replace(/\*$/, ':path');
      const params = (out.schema as { params?: { properties?: Record<string, unknown>; required?: string[] } }).params;
      if (params?.properties?.['*']) {
        const { '*': wildcard, ...rest } = params.properties;
        params.properties = { ...rest, path: wildcard };
        params.required = params.required?.map((name) => (name === '*' ? 'path' : name));
      }
      // A multipart body is read by the route itself (streamed), so it has no zod schema: describe it here.
      const multipart =
        input.route.config?.accepts === 'multipart/form-data'
          ? {
              consumes: ['multipart/form-data'],
              body: {
                type: 'object',
                required: ['file'],
                properties: {
                  file: {
                    type: 'array',
                    items: { type: 'string', format: 'binary' },
                    description: 'One part per file; the file name may carry a relative path.',
                  },
                },
              },
            }
          : {};
      return { ...out, url, schema: { ...out.schema, ...multipart, security } };
    },
  });
  await app.register(withAccess(ACCESS.public, fastifySwaggerUi, { routePrefix: '/docs' }));
  await app.register(runRoutes(deps));
  await app.register(hintRoutes(deps));
  await app.register(lessonRoutes(deps));
  await app.register(eventRoutes(deps));
  await app.register(artifactRoutes(deps));
  await app.register(uploadRoutes(deps));
  await app.register(imageRoutes(deps));
  await app.register(templateRoutes(deps));
  await app.register(keyRoutes(deps));
  await app.register(healthRoutes(deps));
  await app.register(metricsRoutes(deps));
  // Not in the OpenAPI document (its routes are hidden); needs a real queue (the document is built without one).
  if (deps.queue) await app.register(queueDashboardRoutes(deps, resolver, unroutedLimit));
  app.get('/openapi.json', { schema: { hide: true }, config: { access: ACCESS.public } }, async () => app.swagger());
  await app.register(dashboardRoutes());
  return app;
}
