import { describe, expect, it } from 'vitest';
import { closeAction } from '../../src/close-policy.js';

const guest = { getToken: false, token: false, guestToken: true };

describe('closeAction', () => {
  it('retries what a reconnect can fix', () => {
    for (const code of [1000, 1001, 1006, 1009, 1011, 1013, 4000, 4408, 4429]) expect(closeAction(code, guest)).toBe('retry');
  });

  it('stops on refusals a retry cannot fix', () => {
    expect(closeAction(4400, guest)).toBe('stop');
    expect(closeAction(4403, guest)).toBe('stop');
    // Disconnected by an administrator: whatever the credentials, no automatic comeback.
    expect(closeAction(4410, guest)).toBe('stop');
    expect(closeAction(4410, { getToken: true, token: true, guestToken: false })).toBe('stop');
    expect(closeAction(4401, { getToken: false, token: true, guestToken: false })).toBe('stop');
    expect(closeAction(4401, { getToken: false, token: false, guestToken: false })).toBe('stop');
  });

  it('on 4401 refreshes the token when it can, else starts over as a new guest', () => {
    expect(closeAction(4401, { getToken: true, token: true, guestToken: false })).toBe('refresh-token');
    expect(closeAction(4401, guest)).toBe('new-guest');
  });
});
