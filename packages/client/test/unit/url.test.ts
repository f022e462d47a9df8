import { describe, expect, it } from 'vitest';
import { httpOrigin, socketUrl } from '../../src/url.js';

describe('server URLs', () => {
  it('adds connection parameters, encoded, skipping empty ones', () => {
    expect(socketUrl('ws://h:8080/ws', { name: 'Zoë & co', guest: undefined, token: '' })).toBe('ws://h:8080/ws?name=Zo%C3%AB%20%26%20co');
    expect(socketUrl('wss://h/chat/ws?tenant=a', { token: 't.k=n' })).toBe('wss://h/chat/ws?tenant=a&token=t.k%3Dn');
  });

  it('accepts http(s) and a bare host, meaning the default /ws endpoint', () => {
    expect(socketUrl('https://chat.example.com', {})).toBe('wss://chat.example.com/ws');
    expect(socketUrl('http://localhost:8080/', {})).toBe('ws://localhost:8080/ws');
    expect(socketUrl('HTTPS://chat.example.com/ws', {})).toBe('wss://chat.example.com/ws');
  });

  it('derives the HTTP origin for file URLs', () => {
    expect(httpOrigin('wss://chat.example.com/ws')).toBe('https://chat.example.com');
    expect(httpOrigin('ws://127.0.0.1:9000/ws?x=1')).toBe('http://127.0.0.1:9000');
  });

  it('refuses what is not a server URL, saying what is expected', () => {
    expect(() => socketUrl('localhost:8080', {})).toThrow(/ws:\/\/HOST:PORT\/ws/);
    expect(() => socketUrl('ftp://h/ws', {})).toThrow(/not a server URL/);
  });
});
