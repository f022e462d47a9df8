// What this node's dispatcher did per endpoint since it started (status and /metrics).

export interface EndpointStats {
  delivered: number;
  /** Attempts that failed (each retry counts). */
  failed: number;
  /** Events given up on after --webhook-max-age. */
  dropped: number;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
}

export class WebhookStats {
  readonly byEndpoint = new Map<string, EndpointStats>();

  of(endpoint: string): EndpointStats {
    let s = this.byEndpoint.get(endpoint);
    if (!s) this.byEndpoint.set(endpoint, (s = { delivered: 0, failed: 0, dropped: 0, lastError: null, lastErrorAt: null, lastSuccessAt: null }));
    return s;
  }
}
