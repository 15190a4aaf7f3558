// Run-time throughput on the real brokers: runs bench/<broker>/throughput.mjs (written by the target
// engineers: generated client against the plain client library doing the same work) when the script
// exists and the broker answers on its port, and reads its results.
//
// The contract the harness prefers: one JSON line per mode, last on stdout,
//   {"broker":"kafka","mode":"default","generated":[eps, ...],"plain":[eps, ...]}
// (numbers or arrays of per-round events per second). Until a script prints that, its own output
// is read: lines such as "round 2: plain amqplib 8123 events/s", "round 1: plain 9000 ev/s,
// generated 8700 ev/s" or "jetstream round 3: plain-ce 4100 events/s" (NATS: "plain" is the
// plain-ce side, which puts the same CloudEvents headers on the wire as the generated client).
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadAverage, measure } from './measure.mjs';
import { summary } from './stats.mjs';

export const BROKERS = [
  { name: 'rabbitmq', script: 'bench/rabbitmq/throughput.mjs', endpoint: () => hostPort(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', 5672) },
  { name: 'kafka', script: 'bench/kafka/throughput.mjs', endpoint: () => hostPort((process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0], 9092) },
  { name: 'nats', script: 'bench/nats/throughput.mjs', endpoint: () => hostPort(process.env.NATS_URL ?? '127.0.0.1:4222', 4222) },
  { name: 'mqtt', script: 'bench/mqtt/throughput.mjs', endpoint: () => hostPort(process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883', 1883) },
];

function hostPort(address, defaultPort) {
  const bare = address.replace(/^[a-z]+:\/\//, '').replace(/^[^@]*@/, '').split('/')[0];
  const [host, port] = bare.split(':');
  return { host: host || '127.0.0.1', port: Number(port) || defaultPort };
}

/** True when something accepts a TCP connection at host:port within a second. */
export function isUp({ host, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (up) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const asList = (value) => (Array.isArray(value) ? value : typeof value === 'number' ? [value] : []);

/** Reads a throughput script's output into { mode: { generated: [...], plain: [...], plainJson?: [...] } }. */
export function parseThroughput(stdout) {
  const modes = {};
  const lines = stdout.trim().split('\n');
  // 1. The agreed contract: JSON lines with broker/mode/generated/plain.
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const entry = JSON.parse(t);
      if (entry && entry.generated !== undefined && entry.plain !== undefined) modes[entry.mode ?? 'default'] = { generated: asList(entry.generated), plain: asList(entry.plain), contract: true };
    } catch {
      // not a contract line
    }
  }
  if (Object.keys(modes).length > 0) return modes;
  // 2. Per-round lines of the scripts as they are.
  for (const line of lines) {
    const head = /^(?:(\w+) )?round \d+:/.exec(line.trim());
    if (!head) continue;
    const mode = head[1] ?? 'default';
    const entry = (modes[mode] ??= { generated: [], plain: [], plainJson: [] });
    for (const match of line.matchAll(/(plain-json|plain-ce|plain amqplib|plain|generated)\s+(\d+(?:\.\d+)?)\s*(?:events|ev)\/s/g)) {
      const value = Number(match[2]);
      if (match[1] === 'generated') entry.generated.push(value);
      else if (match[1] === 'plain-json') entry.plainJson.push(value);
      else entry.plain.push(value);
    }
  }
  for (const [mode, entry] of Object.entries(modes)) {
    if (entry.plainJson.length === 0) delete entry.plainJson;
    if (entry.generated.length === 0 && entry.plain.length === 0) delete modes[mode];
  }
  return modes;
}

/** Runs every broker's script that exists and whose broker is up. Returns one entry per broker. */
export async function runBrokers({ root, events, rounds, timeoutMs, log }) {
  const results = [];
  for (const broker of BROKERS) {
    const script = path.join(root, broker.script);
    const command = `node ${broker.script} ${events} ${rounds}`;
    if (!existsSync(script)) {
      results.push({ broker: broker.name, status: 'skipped', reason: `${broker.script} does not exist yet`, command });
      continue;
    }
    const endpoint = broker.endpoint();
    if (!(await isUp(endpoint))) {
      results.push({ broker: broker.name, status: 'skipped', reason: `no broker at ${endpoint.host}:${endpoint.port}${broker.name === 'kafka' ? ' (start it: bash scripts/kafka.sh start && bash scripts/kafka.sh wait)' : ''}`, command });
      continue;
    }
    log(`  ${broker.name}: ${command}`);
    const run = await measure({ cmd: process.execPath, args: [script, String(events), String(rounds)], cwd: root, timeoutMs });
    const modes = parseThroughput(run.stdout);
    if (run.code !== 0 || Object.keys(modes).length === 0) {
      results.push({ broker: broker.name, status: 'failed', reason: run.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exit ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`, command, stdout: run.stdout.slice(-2000) });
      continue;
    }
    const summaries = Object.fromEntries(
      Object.entries(modes).map(([mode, entry]) => {
        const generated = summary(entry.generated);
        const plain = summary(entry.plain);
        const plainJson = entry.plainJson ? summary(entry.plainJson) : undefined;
        const pairs = entry.generated.map((g, i) => (entry.plain[i] ? g / entry.plain[i] : NaN)).filter(Number.isFinite);
        return [mode, { generated, plain, plainJson, ratio: generated && plain ? generated.median / plain.median : null, perRound: summary(pairs), contract: !!entry.contract }];
      }),
    );
    results.push({ broker: broker.name, status: 'measured', command, modes: summaries, wall: run.wall, contract: Object.values(summaries).every((m) => m.contract) });
  }
  return results;
}

/**
 * Runs bench/avro/throughput.mjs (Avro next to JSON on Kafka, through the schema registry) when Kafka
 * and the registry answer, and reads its last JSON line.
 */
export async function runAvro({ root, events, rounds, timeoutMs, log }) {
  const script = 'bench/avro/throughput.mjs';
  const command = `node ${script} ${events} ${rounds}`;
  const kafka = BROKERS.find((broker) => broker.name === 'kafka').endpoint();
  const registry = hostPort(process.env.CODEGEN_REGISTRY_URL ?? 'http://127.0.0.1:8081', 8081);
  for (const [what, endpoint] of [['Kafka', kafka], ['schema registry', registry]]) {
    if (!(await isUp(endpoint))) return { status: 'skipped', reason: `no ${what} at ${endpoint.host}:${endpoint.port}`, command };
  }
  log(`  avro: ${command}`);
  const loadBefore = loadAverage();
  const run = await measure({ cmd: process.execPath, args: [path.join(root, script), String(events), String(rounds)], cwd: root, timeoutMs });
  const line = run.stdout.trim().split('\n').reverse().find((l) => l.trim().startsWith('{'));
  if (run.code !== 0 || !line) {
    return { status: 'failed', reason: run.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exit ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`, command };
  }
  const figures = JSON.parse(line);
  return {
    status: 'measured',
    command,
    load: { before: loadBefore, after: loadAverage() },
    events: figures.events,
    rounds: figures.rounds,
    eventsPerSecond: { json: summary(figures.eventsPerSecond.json), avro: summary(figures.eventsPerSecond.avro) },
    cpuMicrosPerEvent: figures.cpuMicrosPerEvent,
    bytesPerEvent: figures.bytesPerEvent,
  };
}
