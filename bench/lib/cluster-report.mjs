// Plain-text tables for bench/cluster-costs.mjs.

const f = (/** @type {number} */ x, digits = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : 'n/a');

function table(/** @type {string} */ title, /** @type {string[]} */ head, /** @type {(string | number)[][]} */ rows) {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? f(c) : c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (/** @type {(string | number)[]} */ r) => r.map((c, i) => (i === 0 || i === r.length - 1 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd();
  process.stdout.write(`\n${title}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${cells.slice(1).map(line).join('\n')}\n`);
}

const tops = (/** @type {{ cmd: string, calls: number, usec: number }[]} */ t) => t.map((c) => `${c.cmd} ${f(c.calls, 2)}`).join(', ');

/** @param {any} o the JSON result */
export function printTables(o) {
  process.stdout.write(`cluster-costs: build ${o.build.commit} (${o.build.dir}), #17 options: ${o.build.options.join(', ') || 'none'}\n`);
  process.stdout.write(`machine: ${o.machine.cores} × ${o.machine.cpu}, Linux ${o.machine.kernel}, Node ${o.machine.node}, Redis ${o.machine.redis}, PostgreSQL ${o.machine.postgres}; presence lease ${o.lease}\n`);
  if (o.failed) process.stdout.write(`FAILED: ${o.failed} (tables below show what was measured before)\n`);
  if (o.messages?.length) table(
    'Per message (2 nodes; main: 100 rooms with members on both nodes; small: 100 rooms of 3)',
    ['rate', 'rooms', 'fan-out', 'acked/s', 'deliv/s', 'node µs', 'n1/n2 µs', 'Redis µs', 'Redis cmds', 'Redis cmd µs*', 'PG µs', 'WAL B', 'refused', 'top Redis commands per message'],
    o.messages.map((/** @type {any} */ m) => [
      m.targetRate, m.rooms ?? 'main', f(m.fanOut ?? NaN, 1), m.ackedPerS, m.deliveriesPerS, m.per.nodeCpuUs, m.per.nodeCpuUsEach.map((/** @type {number} */ x) => f(x, 0)).join('/'),
      m.per.redisCpuUs, f(m.per.redisCommands, 2), m.per.redisCommandUs, m.per.pgCpuUs, f(m.per.walBytes, 0), m.refused + m.errors, tops(m.per.top),
    ]),
  );
  process.stdout.write('* commandstats time; a command a Lua script runs counts in the script and again on its own line\n');
  if (o.nodeCpuSplit) process.stdout.write(`node CPU at ${o.nodeCpuSplit.rate}/s, fitted over the two fan-outs: ${f(o.nodeCpuSplit.perMessageUs)} µs per message (both nodes) + ${f(o.nodeCpuSplit.perDeliveryUs, 2)} µs per delivery\n`);
  if (o.final && o.messages) process.stdout.write(`messages table: ${f(o.final.messagesRows, 0)} rows, ${f(o.final.messagesTableBytes / 1e6, 1)} MB with indexes = ${f(o.final.bytesPerMessageRow, 0)} B a row; database growth per message: ${o.messages.map((/** @type {any} */ m) => `${f(m.per.dbBytes ?? NaN, 0)} B at ${m.targetRate}/s`).join(', ')}\n`);
  if (o.messages?.length) process.stdout.write(`CPU share during the window: ${o.messages.map((/** @type {any} */ m) => `${m.targetRate}/s: nodes ${m.cpuPct.nodes.map((/** @type {number} */ x) => f(x, 0)).join('% + ')}%, Redis ${f(m.cpuPct.redis, 0)}%, PostgreSQL ${f(m.cpuPct.postgres, 0)}%`).join('; ')}\n`);
  const c = o.connections;
  const rows = [];
  if (c) rows.push(
    ['node RSS per connection (n1/n2), bytes', c.rssBytesPerConnection.map((/** @type {number} */ x) => f(x, 0)).join(' / '), `${c.count} connections in 100 rooms`],
    ['Redis memory per connection, bytes', f(c.redisMemoryBytesPerConnection, 0), 'used_memory delta'],
    ['open + join: node CPU µs', f(c.openAndJoin.nodeCpuUs), ''],
    ['open + join: Redis commands / µs in commands', `${f(c.openAndJoin.redisCommands, 2)} / ${f(c.openAndJoin.redisCommandUs, 1)}`, tops(c.openAndJoin.top)],
  );
  if (o.final?.rssBytesPerConnectionOverall) rows.push(['node RSS per connection, start to end (n1/n2)', o.final.rssBytesPerConnectionOverall.map((/** @type {number} */ x) => f(x, 0)).join(' / '), `${f(o.start.nodeRss[0] / 1e6, 0)} MB → ${f(o.final.nodeRss[0] / 1e6, 0)} MB on n1`]);
  if (o.idle) rows.push(['Redis commands/s idle, per 1,000 connections', f(o.idle.redisCommandsPerSPer1000, 2), `${f(o.idle.redisCommandsPerS, 1)}/s at ${o.idle.connections}, ${f(o.idleBaseline.redisCommandsPerS, 1)}/s with none`]);
  if (o.bigRoom) rows.push(
    ['node RSS per connection in the big room', o.bigRoom.rssBytesPerConnection.map((/** @type {number} */ x) => f(x, 0)).join(' / '), `${o.bigRoom.members} members in one room`],
    ['Redis memory per big-room member, bytes', f(o.bigRoom.redisMemoryBytesPerMember, 0), ''],
    ['big room: open + join, node CPU µs / Redis cmd µs', `${f(o.bigRoom.openAndJoin.nodeCpuUs, 0)} / ${f(o.bigRoom.openAndJoin.redisCommandUs, 0)}`, 'average over the room filling up'],
  );
  if (o.idleAll) rows.push(['  same, with every connection open', f(o.idleAll.redisCommandsPerSPer1000, 2), `${f(o.idleAll.redisCommandsPerS, 1)}/s at ${o.idleAll.connections}`]);
  const pct = (/** @type {number[] | undefined} */ p) => (p ? p.map((x) => `${f(x, 2)}%`).join(' + ') : 'n/a');
  if (o.idle) rows.push(['node CPU idle (n1 + n2): none / some / all connections', `${pct(o.idleBaseline.nodeCpuPct)} / ${pct(o.idle.nodeCpuPct)} / ${pct(o.idleAll?.nodeCpuPct)}`, 'share of one core']);
  if (rows.length) table('Per connection', ['what', 'value', 'note'], rows);
  const joins = [];
  for (const [label, j] of [['of 1 (fresh)', o.joinSmall], [`of ${o.joinBig?.roomSize}`, o.joinBig]]) {
    if (j) joins.push([label, j.nodeCpuUs, j.redisCpuUs, f(j.redisCommands, 2), j.redisCommandUs, j.pgCpuUs, f(j.walBytes, 0), tops(j.top)]);
  }
  if (joins.length) table('Per join (joins of already-open connections)', ['room', 'node µs', 'Redis CPU µs', 'Redis cmds', 'Redis cmd µs', 'PG µs', 'WAL B', 'top Redis commands per join'], joins);
}
