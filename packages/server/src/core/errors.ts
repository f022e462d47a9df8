import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@roomcast/protocol';

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
  // Errors of the ports (store, broker) that carry one of our codes, e.g. `unavailable`.
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) {
    return { body: { code: code as ErrorCode, message: err.message }, unexpected: code === 'unavailable' };
  }
  return {
    body: { code: 'internal', message: 'the server failed to handle this request; it was logged, please try again' },
    unexpected: true,
  };
}
