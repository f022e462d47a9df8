import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

// The server API's OpenAPI 3.1 document, made from the routes' own TypeBox schemas as they are
// registered (so this must be registered before them), at /api/openapi.json, and a page to
// browse it at /api/docs (Swagger UI; its files are bundled, nothing is fetched from elsewhere).
// Only routes with tags are in it: the web UI's files, health and metrics are not the API.

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';

/** The docs page's CSP: its own files only, plus the inline style and data: images Swagger UI uses. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * Registers the document and the page on `app` itself (not a child scope: the document must see
 * every route). Queued, not awaited: routes registered after this are seen.
 */
export function registerOpenApi(app: FastifyInstance, version: string): void {
  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'roomcast server API',
        version,
        description: 'Drive rooms, members, messages and users from your backend. Keys and scopes, idempotency: docs/integration.md, "The server API". Errors: {"error": {"code", "message"}} with the codes of docs/protocol.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API key (--api-key, --api-keys), or an admin user\'s sign-in token (admin routes)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'an API key' },
        },
      },
      tags: [
        { name: 'rooms', description: 'Rooms: list, create, get, update, delete' },
        { name: 'members', description: 'A room\'s members and their roles' },
        { name: 'messages', description: 'Post, read, edit, unsend, search' },
        { name: 'users', description: 'Users: look up, disconnect, ban server-wide, mint tokens' },
        { name: 'moderation', description: 'Bans and mutes in a room' },
        { name: 'webhooks', description: 'Webhook delivery status' },
      ],
    },
    hideUntagged: true,
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    uiConfig: { deepLinking: true },
    staticCSP: DOCS_CSP,
  });
}
