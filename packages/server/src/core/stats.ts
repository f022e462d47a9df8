/** Counters kept on the hot path as plain numbers; /api/stats and /metrics read them. */
export class ChatStats {
  /** Messages accepted and stored (duplicates not counted). */
  messagesIn = 0;
  /** Frames written to connections (every delivery of every event). */
  messagesOut = 0;
  bytesOut = 0;
  framesIn = 0;
  /** Requests answered with an error. */
  errors = 0;
  rateLimited = 0;
  slowConsumers = 0;
  connectionsTotal = 0;
  readonly startedAt = Date.now();
}
