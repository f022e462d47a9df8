// The app: one RoomcastClient for all pages, kept in globalData once signed in (lib/session.js).
const config = require('./config.js');

/** @typedef {import('./lib/session.js').Globals} Globals */

App({
  /** @type {Globals} */
  globalData: { server: config.server, chat: null, unsubscribe: [] },
});
