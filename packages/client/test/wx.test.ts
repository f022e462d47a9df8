import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomcastClient } from '../src/client.js';
import type { WxConnectOptions, WxLike, WxSocketTask } from '../src/wx.js';
import { wxNetwork } from '../src/network.js';
import { wxSocket } from '../src/wx.js';
import { collect, connect, serverPerSuite, whenState } from './helpers.js';

// WeChat mini programs: the SDK over a stand-in for wx.connectSocket / SocketTask that keeps the
// documented contract (listeners registered with onOpen/onMessage/onClose/onError; onMessage
// gives {data} with a string or an ArrayBuffer; send({data}) takes only a string or an
// ArrayBuffer; close({code, reason}) takes 1000 or 3000–4999; failures go to `fail({errMsg})`),
// backed by a real WebSocket to a real server.

interface StandIn extends WxLike {
  /** Every `data` handed to SocketTask.send. */
  sent: Array<string | ArrayBuffer>;
  connects: WxConnectOptions[];
  tasks: WebSocket[];
}

function fakeWx(): StandIn {
  const wx: StandIn = {
    sent: [],
    connects: [],
    tasks: [],
    connectSocket(options) {
      if (typeof options.url !== 'string' || !/^wss?:\/\//.test(options.url)) {
        throw new Error('connectSocket:fail invalid url');
      }
      wx.connects.push(options);
      const ws = new WebSocket(options.url, options.protocols ?? [], { headers: options.header ?? {} });
      wx.tasks.push(ws);
      const listeners = { open: [] as Array<(r: object) => void>, message: [] as Array<(r: { data: string | ArrayBuffer }) => void>, close: [] as Array<(r: { code: number; reason: string }) => void>, error: [] as Array<(r: { errMsg: string }) => void> };
      ws.on('open', () => {
        options.success?.();
        for (const l of listeners.open) l({ header: {}, profile: {} });
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // Binary frames arrive as an ArrayBuffer of exactly the frame's bytes, text as a string.
        const payload = isBinary ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data.toString('utf8');
        for (const l of listeners.message) l({ data: payload as string | ArrayBuffer });
      });
      ws.on('close', (code, reason) => {
        for (const l of listeners.close) l({ code, reason: reason.toString() });
      });
      ws.on('error', (err) => {
        options.fail?.({ errMsg: `connectSocket:fail ${err.message}` });
        for (const l of listeners.error) l({ errMsg: err.message });
      });
      const task: WxSocketTask = {
        onOpen: (l) => void listeners.open.push(l),
        onMessage: (l) => void listeners.message.push(l),
        onClose: (l) => void listeners.close.push(l),
        onError: (l) => void listeners.error.push(l),
        send({ data, success, fail }) {
          if (typeof data !== 'string' && !(data instanceof ArrayBuffer)) {
            fail?.({ errMsg: 'sendSocketMessage:fail parameter error: parameter.data should be String or ArrayBuffer' });
            return;
          }
          if (ws.readyState !== WebSocket.OPEN) {
            fail?.({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' });
            return;
          }
          wx.sent.push(data);
          ws.send(data, { binary: typeof data !== 'string' });
          success?.();
        },
        close({ code = 1000, reason = '', success, fail }) {
          if (code !== 1000 && (code < 3000 || code > 4999)) {
            fail?.({ errMsg: `closeSocket:fail The code must be either 1000, or between 3000 and 4999. ${code} is neither.` });
            return;
          }
          ws.close(code, reason);
          success?.();
        },
      };
      return task;
    },
  };
  return wx;
}

describe('WeChat mini program adapter', () => {
  const server = serverPerSuite();
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('chats over wx.connectSocket: text and binary both ways, strings and ArrayBuffers only', async () => {
    const wx = fakeWx();
    const mini = new RoomcastClient(server.wsUrl, { socket: wxSocket(wx), name: 'Mini', minReconnectDelay: 20 });
    clients.push(mini);
    await mini.connect();
    expect(wx.connects[0]).toMatchObject({ url: `${server.wsUrl}?name=Mini`, protocols: ['roomcast.v1'] });
    const room = await mini.create();
    const web = await connect(server.wsUrl, { name: 'Web' }, clients);
    const webRoom = await web.join(room.id);
    const webSeen = collect(webRoom);
    const miniSeen = collect(room);

    await room.send('from the mini program');
    const picture = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    await room.sendBinary(picture, { mime: 'image/png', name: 'p.png' });
    await webRoom.send('from the web');
    await webRoom.sendBinary(new Uint8Array([9, 8, 7]), { mime: 'application/octet-stream' });

    const atWeb = await webSeen.until(4);
    expect(atWeb.map((m) => m.text ?? m.binary?.mime)).toEqual(['from the mini program', 'image/png', 'from the web', 'application/octet-stream']);
    expect([...(atWeb[1]?.data ?? [])]).toEqual([...picture]);
    const atMini = await miniSeen.until(4);
    expect(atMini.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect([...(atMini[3]?.data ?? [])]).toEqual([9, 8, 7]);
    expect(wx.sent.every((d) => typeof d === 'string' || d instanceof ArrayBuffer)).toBe(true);
    expect(wx.sent.some((d) => d instanceof ArrayBuffer)).toBe(true);
  });

  it('reconnects and resumes through the adapter after the server drops it', async () => {
    const wx = fakeWx();
    const mini = new RoomcastClient(server.wsUrl, { socket: wxSocket(wx), name: 'Mini', minReconnectDelay: 20, maxReconnectDelay: 100 });
    clients.push(mini);
    await mini.connect();
    const web = await connect(server.wsUrl, { name: 'Web' }, clients);
    const webRoom = await web.create();
    const seen = collect(await mini.join(webRoom.id));
    await webRoom.send('one');
    await seen.until(1);
    const miniId = mini.user?.id;
    for (const s of server.core.registry.sessions) if (s.user.id === miniId) s.conn.close(1013, 'slow consumer');
    await webRoom.send('two');
    await webRoom.send('three');
    await whenState(mini, 'connected');
    expect((await seen.until(3)).map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(wx.connects).toHaveLength(2);
    expect(wx.connects[1]?.url).toContain('guest=');
    expect(mini.user?.id).toBe(miniId);
  });

  it('follows wx.onNetworkStatusChange: drops the connection when the network goes, redials when it is back', async () => {
    const listeners = new Set<(res: { isConnected: boolean; networkType: string }) => void>();
    const wx = Object.assign(fakeWx(), {
      onNetworkStatusChange: (l: (res: { isConnected: boolean; networkType: string }) => void) => void listeners.add(l),
      offNetworkStatusChange: (l: (res: { isConnected: boolean; networkType: string }) => void) => void listeners.delete(l),
    });
    const status = (isConnected: boolean) => {
      for (const l of [...listeners]) l({ isConnected, networkType: isConnected ? 'wifi' : 'none' });
    };
    // A long backoff: only the network hint can bring it back within the test's wait.
    const mini = new RoomcastClient(server.wsUrl, { socket: wxSocket(wx), network: wxNetwork(wx), name: 'Mini', minReconnectDelay: 60_000, maxReconnectDelay: 60_000 });
    clients.push(mini);
    await mini.connect();
    const room = await mini.create();
    const states: string[] = [];
    mini.on('state', (e) => states.push(e.state));
    status(false);
    expect(states).toEqual(['connecting']); // at once, not after two silent heartbeats
    const queued = room.send('written in the tunnel');
    status(true);
    await whenState(mini, 'connected');
    expect((await queued).seq).toBe(1);
    expect(wx.connects).toHaveLength(2);
    mini.close();
    expect(listeners.size).toBe(0);
  });

  it('closes its SocketTask with a code the platform accepts', async () => {
    const wx = fakeWx();
    const mini = new RoomcastClient(server.wsUrl, { socket: wxSocket(wx) });
    await mini.connect();
    const closed = new Promise<number>((resolve) => wx.tasks[0]?.once('close', (code) => resolve(code)));
    mini.close();
    expect(await closed).toBe(1000);
  });
});
