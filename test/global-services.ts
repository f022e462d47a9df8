import type { TestProject } from 'vitest/node';
import { startPostgres, startRedis } from './services.js';

// One PostgreSQL and one Redis for the whole run; tests that restart or kill a server start their
// own (test/services.ts) so they cannot disturb the others.

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  project.provide('pgUrl', pg.url);
  project.provide('redisUrl', redis.url);
  return async () => {
    await Promise.all([pg.stop(), redis.stop()]);
  };
}
