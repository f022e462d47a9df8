import pg from 'pg';

// The PostgreSQL pool with every wait bounded. A node cut off from the database (silently: no
// reset, no FIN) must fail its requests with `unavailable` within the timeouts, and must not
// hold row locks that stall the other nodes: the server ends its transaction on its own
// (idle_in_transaction_session_timeout), and the client gives up on a query that gets no answer
// (query_timeout) and drops that connection, which is then useless.

export interface PgTimeouts {
  /** statement_timeout: the server cancels a statement that runs longer. */
  statementMs: number;
  /** lock_timeout, and how long an append waits for a room another node holds. */
  lockMs: number;
  /** idle_in_transaction_session_timeout: a cut-off node's open transaction ends, its locks go. */
  idleInTransactionMs: number;
  /** Client side: a query with no answer this long fails and its connection is dropped. */
  queryMs: number;
  /** How long to wait for a new connection. */
  connectMs: number;
  /** store.ping (readyz): answers within this, whatever the link does. */
  pingMs: number;
}

export function pgTimeouts(timeoutMs: number): PgTimeouts {
  return {
    statementMs: timeoutMs,
    lockMs: Math.max(50, Math.round(timeoutMs / 2)),
    idleInTransactionMs: timeoutMs,
    // Above statement_timeout, so the server's own cancel (a clear error) normally comes first.
    queryMs: timeoutMs + Math.min(1000, Math.max(200, Math.round(timeoutMs / 5))),
    connectMs: Math.min(3000, timeoutMs),
    pingMs: Math.min(1000, timeoutMs),
  };
}

const READ_TIMEOUT = 'Query read timeout';

export function openPool(url: string, max: number, timeoutMs: number): { pool: pg.Pool; timeouts: PgTimeouts } {
  const t = pgTimeouts(timeoutMs);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Fail fast while the database is away: requests answer `unavailable` instead of hanging.
    connectionTimeoutMillis: t.connectMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: t.statementMs,
    lock_timeout: t.lockMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    query_timeout: t.queryMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // A connection the server drops (restart, failover) emits 'error': on idle clients through
  // the pool, on checked-out ones on the client itself. Unheard, either would crash the process;
  // the query that was running fails on its own and is reported as `unavailable`.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    dropOnReadTimeout(client);
  });
  return { pool, timeouts: t };
}

/**
 * After a query timed out on the client the connection is out of step (the answer may still
 * come) or dead (a silent cut): it is destroyed, so the transaction's ROLLBACK fails at once
 * instead of waiting again, and the pool never hands it out again.
 */
function dropOnReadTimeout(client: pg.PoolClient): void {
  type Query = (...args: unknown[]) => unknown;
  const target = client as unknown as { query: Query };
  const query = target.query.bind(client) as Query;
  target.query = (...args: unknown[]) => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if (err instanceof Error && err.message === READ_TIMEOUT) client.connection.stream.destroy();
      });
    }
    return result;
  };
}

/** `select 1` answered within `ms`, or an Error saying PostgreSQL did not answer. */
export async function pingPool(pool: pg.Pool, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PostgreSQL did not answer a health check within ${ms} ms; check the database and the network to it`)), ms);
  });
  const ping = pool.query({ text: 'select 1', query_timeout: ms } as pg.QueryConfig);
  ping.catch(() => {}); // when `late` won, its failure comes later and is not news
  try {
    await Promise.race([ping, late]);
  } finally {
    clearTimeout(timer);
  }
}
