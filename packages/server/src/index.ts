export { startServer, type RoomcastServer } from './server.js';
export { DEFAULT_CONFIG, resolveConfig, type ServerConfig } from './config.js';
export { ChatService } from './core/chat.js';
export type { Store } from './store/store.js';
export type { Broker } from './broker/broker.js';
