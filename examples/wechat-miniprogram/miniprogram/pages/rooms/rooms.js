// Rooms: your rooms and direct conversations with unread counts, public rooms, and creating or
// joining a room by its id. A direct message arriving refreshes the list.
const session = require('../../lib/session.js');

/** @typedef {import('../../lib/roomcast.js').RoomSummary} RoomSummary */
/**
 * @typedef {object} RoomRow
 * @property {string} id
 * @property {string} title
 * @property {boolean} direct
 * @property {string} peerId
 * @property {string} peerName
 * @property {number} unread
 * @property {number} online
 */

/**
 * @param {RoomSummary} r
 * @returns {RoomRow}
 */
function row(r) {
  return {
    id: r.id,
    title: r.direct ? `@ ${r.peer?.name ?? 'someone'}` : r.title || r.id,
    direct: r.direct,
    peerId: r.peer?.id ?? '',
    peerName: r.peer?.name ?? '',
    unread: r.unread ?? 0,
    online: r.online,
  };
}

Page({
  data: {
    me: '',
    /** @type {RoomRow[]} */
    rooms: [],
    /** @type {RoomRow[]} */
    publicRooms: [],
    newTitle: '',
    joinId: '',
  },
  /** @type {Array<() => unknown>} */
  offs: [],

  onLoad() {
    const chat = session.current();
    if (!chat) {
      wx.reLaunch({ url: '/pages/login/login' });
      return;
    }
    this.setData({ me: chat.user?.name ?? '' });
  },

  onShow() {
    const chat = session.current();
    if (!chat) return undefined;
    this.offs.push(chat.on('dm', () => void this.refresh()));
    return this.refresh();
  },

  onHide() {
    session.drop(this.offs);
  },

  onUnload() {
    this.onHide();
  },

  onPullDownRefresh() {
    return this.refresh().finally(() => wx.stopPullDownRefresh());
  },

  async refresh() {
    const chat = session.current();
    if (!chat) return;
    try {
      const [mine, pub] = await Promise.all([chat.rooms('mine'), chat.rooms('public')]);
      const ids = new Set(mine.map((r) => r.id));
      this.setData({ rooms: mine.map(row), publicRooms: pub.filter((r) => !ids.has(r.id)).map(row) });
    } catch (err) {
      session.toast(err);
    }
  },

  /** @param {WechatMiniprogram.Input} e */
  onTitleInput(e) {
    this.setData({ newTitle: e.detail.value });
  },

  /** @param {WechatMiniprogram.Input} e */
  onJoinInput(e) {
    this.setData({ joinId: e.detail.value });
  },

  async onCreate() {
    const chat = session.current();
    if (!chat) return;
    const title = this.data.newTitle.trim();
    try {
      const room = await chat.create(title ? { title } : {});
      this.setData({ newTitle: '' });
      this.open(room.id);
    } catch (err) {
      session.toast(err);
    }
  },

  onJoin() {
    const id = this.data.joinId.trim();
    if (!id) return;
    this.setData({ joinId: '' });
    this.open(id);
  },

  /** @param {WechatMiniprogram.BaseEvent} e a tap on a row: `data-id`, and `data-peer`, `data-name` for a direct one */
  onOpen(e) {
    const { id, peer, name } = /** @type {{id: string, peer?: string, name?: string}} */ (e.currentTarget.dataset);
    this.open(id, peer, name);
  },

  /**
   * @param {string} id
   * @param {string} [peer] the other user of a direct conversation
   * @param {string} [name] their name
   */
  open(id, peer, name) {
    let query = `room=${encodeURIComponent(id)}`;
    if (peer) query += `&peer=${encodeURIComponent(peer)}&name=${encodeURIComponent(name ?? '')}`;
    wx.navigateTo({ url: `/pages/chat/chat?${query}` });
  },

  onSignOut() {
    session.signOut();
    wx.reLaunch({ url: '/pages/login/login' });
  },
});
