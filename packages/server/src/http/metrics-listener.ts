import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ConfigError } from '../config.js';
import { answerErrorsAsJson } from './errors.js';

/** Time a request on the metrics listener may take (it serves two small in-memory answers). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * --metrics-address: a second, plain-HTTP listener with `routes` (/metrics and /api/stats), so
 * scrapers reach them on a private address and the public port does not serve them at all. It
 * binds while `main` gets ready, so a failure to bind stops the start, and closes with `main`.
 */
export function listenApart(
  main: FastifyInstance,
  at: { host: string; port: number },
  log: FastifyBaseLogger,
  routes: (side: FastifyInstance) => Promise<void>,
): void {
  const side = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    requestTimeout: REQUEST_TIMEOUT_MS,
  });
  answerErrorsAsJson(side, log);
  side.register(routes);
  main.addHook('onReady', async () => {
    try {
      await side.listen({ host: at.host, port: at.port });
    } catch (err) {
      await side.close().catch(() => {});
      const e = err as NodeJS.ErrnoException;
      throw new ConfigError(`--metrics-address ${at.host}:${at.port}: cannot listen (${e.code ?? e.message}); pick another address or stop what uses it`);
    }
    log.info({ url: side.listeningOrigin }, 'metrics and stats listening');
  });
  main.addHook('onClose', async () => {
    await side.close();
  });
}
