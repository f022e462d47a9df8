import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/**
 * An HTTP failure with the body every endpoint uses, `{"error":{"code","message"}}`. Hooks that
 * refuse a request (the rate limit) throw one; the error handler answers it as it is.
 */
export class HttpProblem extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

/** Errors and unknown paths in the same shape as the WebSocket side: {error: {code, message}}. */
export function answerErrorsAsJson(app: FastifyInstance, log: FastifyBaseLogger): void {
  app.setErrorHandler((err: { validation?: unknown; statusCode?: number; message: string }, _req, reply) => {
    if (err instanceof HttpProblem) return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    if (err.validation) return reply.code(400).send({ error: { code: 'bad_request', message: err.message } });
    // A body over the limit (FST_ERR_CTP_BODY_TOO_LARGE) is the protocol's `too_large`, as on the socket.
    if (err.statusCode === 413) return reply.code(413).send({ error: { code: 'too_large', message: `${err.message}; send a smaller body` } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'bad_request', message: err.message } });
    log.error({ err }, 'HTTP request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'the server failed to handle this request; it was logged' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
}
