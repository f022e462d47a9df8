// The wire protocol of each server under test, as the load generator speaks it: URL, handshake,
// joining a room, and the frame that publishes a message. Every published text is a timestamp
// marker "@T<µs since epoch>@", which the generator finds in delivered frames without parsing
// the JSON around it.

/** @typedef {import('./client.mjs').Client} Client */

/**
 * @typedef {object} Protocol
 * @property {(name: string, c: Client) => string} path  URL path (with query) of the upgrade
 * @property {((f: string) => boolean) | null} greeting  the server's first frame, if it sends one
 * @property {(c: Client, greeting: string | null) => Promise<void>} opened  finishes the handshake
 * @property {(c: Client, room: string, persist: boolean) => Promise<void>} create  first member of a room
 * @property {(c: Client, room: string) => Promise<void>} join
 * @property {(c: Client, room: string, text: string) => string} publish  the frame that sends `text` to the room
 * @property {boolean} replies  whether the server answers each publish (roomcast's ack)
 */

/** roomcast: JSON requests with refs; `send` is acknowledged by a `reply` after the commit. */
export const roomcast = {
  replies: true,
  path: (name, c) => `/ws?name=${name}${c.guest ? `&guest=${encodeURIComponent(c.guest)}` : ''}`,
  greeting: (f) => f.startsWith('{"op":"welcome"'),
  async opened(c, greeting) {
    const welcome = JSON.parse(greeting ?? '{}');
    c.guest = welcome.guestToken ?? c.guest;
  },
  async create(c, room, persist) {
    await request(c, `"op":"create","room":${JSON.stringify(room)},"persist":${persist}`);
  },
  async join(c, room) {
    await request(c, `"op":"join","room":${JSON.stringify(room)},"history":0`);
  },
  publish(c, room, text) {
    return `{"op":"send","ref":${++c.ref},"room":"${room}","text":"${text}"}`;
  },
};

/** Sends a roomcast request with a fresh ref and waits for its reply; throws on ok:false. */
export async function request(c, fields) {
  const ref = ++c.ref;
  const reply = c.waitFor((f) => f.startsWith(`{"op":"reply","ref":${ref},`));
  c.send(`{${fields},"ref":${ref}}`);
  const text = await reply;
  const v = JSON.parse(text);
  if (!v.ok) throw new Error(`roomcast refused ${fields.slice(0, 60)}: ${v.error?.code} ${v.error?.message}`);
  return v;
}

/**
 * Socket.IO 4 over its websocket transport: Engine.IO open packet "0{…}", then the Socket.IO
 * CONNECT "40" → "40{sid,pid}", events "42[…]", acks "42<id>[…]" → "43<id>[…]", and the
 * Engine.IO heartbeat ("2" from the server, answered "3"; the generator answers it anywhere).
 */
export const socketio = {
  replies: false,
  path: () => `/socket.io/?EIO=4&transport=websocket`,
  greeting: (f) => f.startsWith('0{'),
  async opened(c) {
    const connected = c.waitFor((f) => f.startsWith('40'));
    c.send(c.recover ? `40${JSON.stringify(c.recover)}` : '40');
    const body = (await connected).slice(2);
    if (body.startsWith('{')) {
      const v = JSON.parse(body);
      if (v.pid) c.pid = v.pid;
    }
  },
  async create(c, room) {
    await socketio.join(c, room);
  },
  async join(c, room) {
    const ack = ++c.ref;
    const done = c.waitFor((f) => f.startsWith(`43${ack}[`));
    c.send(`42${ack}["join",${JSON.stringify(room)}]`);
    await done;
  },
  publish(_c, room, text) {
    return `42["msg","${room}","${text}"]`;
  },
};

/** The two plain `ws` baselines share one small JSON protocol. */
const plain = {
  replies: false,
  path: (name) => `/?name=${name}`,
  greeting: null,
  async opened() {},
  async create(c, room) {
    await plain.join(c, room);
  },
  async join(c, room) {
    const done = c.waitFor((f) => f.startsWith('{"type":"joined"'));
    c.send(`{"type":"join","room":${JSON.stringify(room)}}`);
    await done;
  },
  publish(_c, room, text) {
    return `{"type":"msg","room":"${room}","text":"${text}"}`;
  },
};

export const tutorial = plain;
export const minimal = plain;

/** @type {Record<string, Protocol>} */
export const PROTOCOLS = { roomcast, socketio, tutorial, minimal };
