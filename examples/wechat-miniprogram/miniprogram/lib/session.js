// Signing in, the shared client, and files: everything the pages share. Plain CommonJS on `wx`,
// so it runs in the mini program and, in the repository's tests, headlessly with a `wx` on `ws`.
const { RoomcastClient, wxNetwork, wxSocket } = require('./roomcast.js');

/** @typedef {import('./roomcast.js').RoomcastClient} Client */
/** @typedef {import('./roomcast.js').Message} Message */
/**
 * What app.js keeps in `globalData`.
 * @typedef {object} Globals
 * @property {string} server the server's origin, from config.js
 * @property {Client | null} chat the signed-in client
 * @property {Array<() => unknown>} unsubscribe listeners to drop on sign-out
 */
/**
 * A message as the chat page renders it.
 * @typedef {object} MessageView
 * @property {number} seq
 * @property {string} from
 * @property {string} fromId
 * @property {boolean} mine
 * @property {string} text
 * @property {boolean} image a picture, shown once `src` is set
 * @property {string} file name of another kind of file
 * @property {string} src a local temp path of the downloaded picture
 * @property {string} time
 */

const NAME_KEY = 'roomcast.name';
const GUEST_KEY = 'roomcast.guest';

/** @returns {Globals} */
function globals() {
  return getApp().globalData;
}

/** The signed-in client, or null (the page then goes back to sign-in). */
function current() {
  return globals().chat;
}

/** The nickname and guest token from an earlier sign-in on this phone, if any. */
function saved() {
  const name = wx.getStorageSync(NAME_KEY);
  const guestToken = wx.getStorageSync(GUEST_KEY);
  return { name: typeof name === 'string' ? name : '', guestToken: typeof guestToken === 'string' ? guestToken : '' };
}

/**
 * Signs in as a guest called `name` (coming back as the same guest when this phone has a token),
 * keeps the client in globalData and the token in storage: the server sends a fresh token on
 * every connection, so it is saved again after each reconnect.
 * @param {string} name
 * @returns {Promise<Client>}
 */
async function signIn(name) {
  const g = globals();
  if (g.chat) return g.chat;
  const previous = saved();
  const chat = new RoomcastClient(g.server, {
    socket: wxSocket(wx),
    // Drops the connection as soon as the phone goes offline, redials when it is back or the
    // mini program returns to the foreground (WeChat closes sockets of a backgrounded one).
    // (Cast: the official typings declare offNetworkStatusChange's callback with a looser result.)
    network: wxNetwork(/** @type {import('./roomcast.js').WxNetworkLike} */ (/** @type {unknown} */ (wx))),
    name,
    guestToken: previous.name === name && previous.guestToken ? previous.guestToken : undefined,
  });
  const keep = () => {
    if (chat.guestToken) wx.setStorageSync(GUEST_KEY, chat.guestToken);
  };
  g.unsubscribe.push(chat.on('state', ({ state }) => state === 'connected' && keep()));
  try {
    await chat.connect();
  } catch (err) {
    chat.close();
    drop(g.unsubscribe);
    throw err;
  }
  wx.setStorageSync(NAME_KEY, name);
  keep();
  g.chat = chat;
  return chat;
}

/** Closes the connection and forgets this guest on this phone. */
function signOut() {
  const g = globals();
  drop(g.unsubscribe);
  g.chat?.close();
  g.chat = null;
  wx.removeStorageSync(GUEST_KEY);
}

/**
 * Calls and forgets unsubscribe functions.
 * @param {Array<() => unknown>} offs
 */
function drop(offs) {
  for (const off of offs.splice(0)) off();
}

/** `https://host` of the server (http for a local one), for file downloads. */
function origin() {
  const m = /^(wss?|https?):\/\/([^/?#]+)/i.exec(globals().server);
  if (!m) throw new Error(`config.js: "${globals().server}" is not an http(s) URL`);
  const secure = /^(wss|https)$/i.test(m[1] ?? '');
  return `${secure ? 'https' : 'http'}://${m[2]}`;
}

/**
 * Downloads a file message's bytes to a local temp path for `<image src>`. The token goes in the
 * Authorization header, never in the URL (URLs end up in logs); `downloadFile` needs the server in
 * the mini program's downloadFile legal domains.
 * @param {Message} message
 * @returns {Promise<string>} the temp file path
 */
function download(message) {
  const chat = current();
  const token = chat?.guestToken;
  if (!token) return Promise.reject(new Error('not signed in'));
  const path = message.binary?.url ?? `/api/rooms/${encodeURIComponent(message.room)}/files/${message.seq}`;
  return new Promise((resolve, reject) => {
    wx.downloadFile({
      url: origin() + path,
      header: { Authorization: `Bearer ${token}` },
      success: (res) => (res.statusCode === 200 ? resolve(res.tempFilePath) : reject(new Error(`download failed: HTTP ${res.statusCode}`))),
      fail: (err) => reject(new Error(err.errMsg)),
    });
  });
}

/**
 * Lets the user pick a picture and reads it: its bytes, MIME type and a file name.
 * @returns {Promise<{bytes: ArrayBuffer, mime: string, name: string} | null>} null when cancelled
 */
function pickImage() {
  return new Promise((resolve, reject) => {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image'],
      sizeType: ['compressed'],
      success: (res) => {
        const file = res.tempFiles[0];
        if (!file) return resolve(null);
        const path = file.tempFilePath;
        const ext = (/\.(\w+)$/.exec(path)?.[1] ?? 'jpg').toLowerCase();
        const mime = ext === 'png' ? 'image/png' : ext === 'gif' ? 'image/gif' : ext === 'webp' ? 'image/webp' : 'image/jpeg';
        wx.getFileSystemManager().readFile({
          filePath: path,
          success: (r) => resolve({ bytes: /** @type {ArrayBuffer} */ (r.data), mime, name: `photo.${ext}` }),
          fail: (err) => reject(new Error(err.errMsg)),
        });
      },
      fail: (err) => (/cancel/.test(err.errMsg) ? resolve(null) : reject(new Error(err.errMsg))),
    });
  });
}

/**
 * @param {Message} m
 * @returns {MessageView}
 */
function view(m) {
  const d = new Date(m.ts);
  const image = !!m.binary && m.binary.mime.startsWith('image/');
  return {
    seq: m.seq,
    from: m.from.name,
    fromId: m.from.id,
    mine: m.mine,
    text: m.unsent ? '(message taken back)' : m.text ?? '',
    image,
    file: m.binary && !image ? m.binary.name ?? m.binary.mime : '',
    src: '',
    time: `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`,
  };
}

/**
 * A toast for a failed action: the SDK's error code when it has one.
 * @param {unknown} err
 */
function toast(err) {
  const e = /** @type {{code?: string, message?: string}} */ (err);
  wx.showToast({ title: e.code ?? e.message ?? String(err), icon: 'none' });
}

module.exports = { current, download, drop, origin, pickImage, saved, signIn, signOut, toast, view };
