import { computed } from 'vue';
import { store } from './store.js';

// Whether what we show about who is online can be trusted. While the connection is down (or the
// browser says the network is gone, which it may say before the SDK's state changes) nobody's
// presence reaches us: counts and lists are only what we last knew, shown as such (no green
// dots). The SDK re-joins on reconnect and its presence `sync` makes them current again.

/** True while presence shown is only the last known. */
export const presenceStale = computed(() => store.conn.state !== 'connected' || !store.conn.browserOnline);
