export { startServer, type RoomcastServer } from './server.js';
export { createRoomcast, roomcastPlugin, DEFAULT_MOUNT_PATH, type Roomcast, type RoomcastOptions, type RoomcastPluginOptions, type RoomcastHooks, type RoomcastEvent } from './library.js';
export type { StartExtras } from './server.js';
export { verifyWebhookSignature, WEBHOOK_EVENT_TYPES, type WebhookEndpoint, type WebhookEvent } from './webhooks/index.js';
export type { Authorize, AuthorizeAction, AuthorizeUser } from './core/authorize.js';
export { DEFAULT_CONFIG, resolveConfig, type ServerConfig } from './config.js';
export { createCore, type Core } from './core/core.js';
export type { Store } from './store/store.js';
export type { Broker } from './broker/broker.js';
