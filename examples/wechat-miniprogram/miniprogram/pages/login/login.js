// Sign-in: a nickname makes a guest; the guest token is kept in storage, so the same nickname on
// this phone comes back as the same user (same id, rooms and unread counts).
const session = require('../../lib/session.js');

Page({
  data: { name: '', busy: false },

  onLoad() {
    const { name, guestToken } = session.saved();
    this.setData({ name });
    // Signed in before on this phone: go straight on.
    if (name && guestToken) return this.onSignIn();
    return undefined;
  },

  /** @param {WechatMiniprogram.Input} e */
  onInput(e) {
    this.setData({ name: e.detail.value });
  },

  async onSignIn() {
    const name = this.data.name.trim();
    if (!name) {
      wx.showToast({ title: 'Enter a nickname', icon: 'none' });
      return;
    }
    this.setData({ busy: true });
    try {
      await session.signIn(name);
      wx.redirectTo({ url: '/pages/rooms/rooms' });
    } catch (err) {
      session.toast(err);
    } finally {
      this.setData({ busy: false });
    }
  },
});
