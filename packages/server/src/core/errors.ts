import type { ErrorBody, ErrorCode } from '@roomcast/protocol';

/** A failure to report to the client: a stable code and a sentence a person can act on. */
export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/** Maps anything thrown by a handler to what the client is told. */
export function toErrorBody(err: unknown): { body: ErrorBody; unexpected: boolean } {
  if (err instanceof ChatError) return { body: err.toBody(), unexpected: false };
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'room_not_found' && err instanceof Error) {
    return { body: { code: 'room_not_found', message: err.message }, unexpected: false };
  }
  return {
    body: { code: 'internal', message: 'the server failed to handle this request; it was logged, please try again' },
    unexpected: true,
  };
}
