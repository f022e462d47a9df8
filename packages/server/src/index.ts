export { startServer, type RoomcastServer } from './server.js';
export { DEFAULT_CONFIG, resolveConfig, type ServerConfig } from './config.js';
export { createCore, type Core } from './core/core.js';
export type { Store } from './store/store.js';
export type { Broker } from './broker/broker.js';
