import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@roomcast/protocol';

/**
 * A failure to report to the client: a stable code and a sentence a person can act on. Made
 * without a stack trace: it is an answer, not a bug, and a flood of bad frames makes thousands
 * a second (capturing their stacks was 1.5% of the CPU under the hostile soak).
 */
export class ChatError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
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
