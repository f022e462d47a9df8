// A room, or a direct conversation: messages in seq order (history, then live), text and
// pictures both ways, presence, typing, and a tap on a sender's name to message them directly.
//
//   /pages/chat/chat?room=ID                      a room (joined if need be)
//   /pages/chat/chat?peer=USER&name=NAME[&room=ID] a direct conversation with USER
const session = require('../../lib/session.js');

/** @typedef {import('../../lib/roomcast.js').Room} Room */
/** @typedef {import('../../lib/roomcast.js').Message} Message */
/** @typedef {import('../../lib/session.js').MessageView} MessageView */

/** How many messages a page starts with. */
const PAGE = 50;

Page({
  data: {
    title: '',
    direct: false,
    online: 0,
    state: 'connected',
    typing: '',
    draft: '',
    /** @type {MessageView[]} */
    messages: [],
    /** The id of the element to scroll to: the newest message. */
    bottom: '',
    loading: true,
  },
  /** The room's id; in a new direct conversation, known after the first message. */
  roomId: '',
  /** The other user of a direct conversation. */
  peer: '',
  /** @type {Room | null} */
  room: null,
  /** @type {Record<number, MessageView>} */
  views: {},
  /** Direct messages seen before the conversation's id was known. @type {Message[]} */
  early: [],
  /** @type {Array<() => unknown>} */
  offs: [],
  /** @type {number | null} */
  typingTimer: null,
  /** Who the typing hint is about. */
  typist: '',

  /** @param {Record<string, string | undefined>} query */
  async onLoad(query) {
    const chat = session.current();
    if (!chat) {
      wx.reLaunch({ url: '/pages/login/login' });
      return;
    }
    this.roomId = decodeURIComponent(query.room ?? '');
    this.peer = decodeURIComponent(query.peer ?? '');
    this.offs.push(chat.on('state', ({ state }) => this.setData({ state })));
    try {
      if (this.peer) {
        const name = decodeURIComponent(query.name ?? '') || 'Direct message';
        this.setData({ direct: true, title: name });
        wx.setNavigationBarTitle({ title: name });
        this.offs.push(chat.on('dm', (m) => this.onDirect(m)));
        if (!this.roomId) {
          // An existing conversation with this user, if there is one.
          const known = (await chat.rooms('mine')).find((r) => r.direct && r.peer?.id === this.peer);
          if (known) this.roomId = known.id;
        }
        if (this.roomId) await this.open(chat.room(this.roomId) ?? (await chat.join(this.roomId, { history: 0 })));
      } else {
        const room = await chat.join(this.roomId, { history: 0 });
        this.offs.push(
          room.on('message', (m) => this.add([m])),
          room.on('change', ({ message }) => message && this.add([message], true)),
          room.on('presence', (p) => this.setData({ online: p.online })),
          room.on('typing', ({ user }) => this.showTyping(user.id, user.name)),
          room.on('closed', ({ reason }) => wx.showToast({ title: `Room ${reason}`, icon: 'none' })),
        );
        const title = room.info?.title || room.id;
        this.setData({ title, online: room.online });
        wx.setNavigationBarTitle({ title });
        await this.open(room);
      }
    } catch (err) {
      session.toast(err);
    } finally {
      this.setData({ loading: false });
    }
  },

  onUnload() {
    session.drop(this.offs);
    if (this.typingTimer !== null) clearTimeout(this.typingTimer);
  },

  /**
   * Shows the room's latest messages; live ones are added as they come, each once.
   * @param {Room} room
   */
  async open(room) {
    this.room = room;
    const page = await room.history({ limit: PAGE });
    this.add(page.messages);
    if (this.early.length > 0) this.add(this.early.splice(0).filter((m) => m.room === room.id));
  },

  /** @param {Message} m a message of any direct conversation */
  onDirect(m) {
    if (m.room === this.roomId) this.add([m]);
    else if (!this.roomId && (m.from.id === this.peer || m.mine)) this.early.push(m);
  },

  /**
   * The id of a new direct conversation, from the reply to its first message.
   * @param {string} id
   */
  async found(id) {
    if (this.roomId) return;
    this.roomId = id;
    const chat = session.current();
    const room = chat?.room(id) ?? (await chat?.join(id, { history: 0 }));
    if (room) await this.open(room);
  },

  /**
   * Puts messages in their place (by seq), once each; `replace` re-renders ones already shown.
   * @param {Message[]} list
   * @param {boolean} [replace]
   */
  add(list, replace = false) {
    let changed = false;
    for (const m of list) {
      const old = this.views[m.seq];
      if (old && !replace) continue;
      const v = session.view(m);
      if (old) v.src = old.src;
      this.views[m.seq] = v;
      changed = true;
      if (v.image && !v.src && !m.unsent) this.fetchImage(m);
      if (!old && m.from.id === this.typist) this.setData({ typing: '' });
    }
    if (!changed) return;
    const messages = Object.values(this.views).sort((a, b) => a.seq - b.seq);
    const last = messages[messages.length - 1];
    this.setData({ messages, bottom: last ? `m${last.seq}` : '' });
    if (this.room && last) this.room.markRead(last.seq).catch(() => undefined);
  },

  /** @param {Message} m */
  fetchImage(m) {
    session
      .download(m)
      .then((src) => {
        const v = this.views[m.seq];
        if (!v) return;
        v.src = src;
        const i = this.data.messages.findIndex((x) => x.seq === m.seq);
        if (i >= 0) this.setData({ [`messages[${i}].src`]: src });
      })
      .catch((err) => session.toast(err));
  },

  /**
   * @param {string} id
   * @param {string} name
   */
  showTyping(id, name) {
    this.typist = id;
    this.setData({ typing: `${name} is typing…` });
    if (this.typingTimer !== null) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      this.setData({ typing: '' });
    }, 4000);
  },

  /** @param {WechatMiniprogram.Input} e */
  onInput(e) {
    this.setData({ draft: e.detail.value });
    if (!this.data.direct) this.room?.typing();
  },

  async onSend() {
    const chat = session.current();
    const text = this.data.draft.trim();
    if (!chat || !text) return;
    this.setData({ draft: '' });
    try {
      if (this.peer) {
        const r = await chat.dm(this.peer, text);
        await this.found(r.room);
      } else {
        // Resolves once stored; while offline it waits in the SDK's outbox and goes out later.
        await this.room?.send(text);
      }
    } catch (err) {
      session.toast(err);
    }
  },

  async onChooseImage() {
    const chat = session.current();
    if (!chat) return;
    try {
      const picked = await session.pickImage();
      if (!picked) return;
      const limit = chat.serverLimits?.maxBinary;
      if (limit && picked.bytes.byteLength > limit) {
        wx.showToast({ title: `Too large (over ${Math.floor(limit / 1024)} kB)`, icon: 'none' });
        return;
      }
      const options = { mime: picked.mime, name: picked.name };
      if (this.peer) {
        const r = await chat.dmBinary(this.peer, picked.bytes, options);
        await this.found(r.room);
      } else {
        await this.room?.sendBinary(picked.bytes, options);
      }
    } catch (err) {
      session.toast(err);
    }
  },

  /** @param {WechatMiniprogram.BaseEvent} e a tap on an image, `data-src` */
  onPreview(e) {
    const { src } = /** @type {{src: string}} */ (e.currentTarget.dataset);
    if (src) wx.previewImage({ urls: [src], current: src });
  },

  /** @param {WechatMiniprogram.BaseEvent} e a tap on a sender's name: `data-id`, `data-name` */
  onTapSender(e) {
    const { id, name } = /** @type {{id: string, name: string}} */ (e.currentTarget.dataset);
    const me = session.current()?.user?.id;
    if (this.data.direct || !id || id === me) return;
    wx.navigateTo({ url: `/pages/chat/chat?peer=${encodeURIComponent(id)}&name=${encodeURIComponent(name)}` });
  },
});
