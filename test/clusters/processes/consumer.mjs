// A generated consumer in a process of its own, so a fault test can kill it with SIGKILL mid-stream.
// Usage: node consumer.mjs <broker> <generated index.js> <json: {client, subscribe, table, postgres}>
// The application's effect is a row in <table>_handled, written in one PostgreSQL transaction with the
// shared store's `done` record (docs/idempotency.md: the effect and the commit together), so a kill at any
// instant leaves both or neither. Prints "ready" once it consumes and "absorbed" for every duplicate the
// store absorbed.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const [broker, indexJs, json] = process.argv.slice(2);
const { client: clientOptions, subscribe, table, postgres } = JSON.parse(json);
const runtime = (file) => import(pathToFileURL(path.join(path.dirname(indexJs), 'runtime', file)).href);
const { PostgresIdempotencyStore } = await runtime('idempotency-postgres.js');
const pool = new pg.Pool({ connectionString: postgres, max: 4 });
const shared = new PostgresIdempotencyStore({ pool, table });
const store = {
  claim: async (id, leaseMs) => {
    const result = await shared.claim(id, leaseMs);
    if (result === 'done') process.stdout.write('absorbed\n');
    return result;
  },
  commit: (id) => shared.commit(id),
  release: (id) => shared.release(id),
  has: (id) => shared.has(id),
  add: (id) => shared.add(id),
};

async function handle(payload, context) {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query(`INSERT INTO "${table}_handled" (id, key, seq) VALUES ($1, $2, $3)`, [context.envelope.id, payload.customerId, payload.total]);
    await new PostgresIdempotencyStore({ pool: tx, table }).add(context.envelope.id);
    await tx.query('COMMIT');
  } catch (error) {
    await tx.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    tx.release();
  }
}

const generated = await import(pathToFileURL(indexJs).href);
// Started again while a node is down, subscribing can fail (a JetStream leader election times out): retried
// here as a process supervisor would restart it, and said on stderr.
for (let attempt = 1; ; attempt++) {
  let client;
  try {
    client = await generated[broker].createClient(clientOptions);
    await client.onOrderCreated(handle, { ...subscribe, idempotencyStore: store, claimLeaseMs: 3000 });
    break;
  } catch (error) {
    process.stderr.write(`consumer start attempt ${attempt} failed: ${error?.message ?? error}\n`);
    await client?.close().catch(() => {});
    if (attempt >= 30) process.exit(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
process.stdout.write('ready\n');
