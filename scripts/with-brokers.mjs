#!/usr/bin/env node
// Run a command with RabbitMQ, NATS (JetStream), Kafka and Mosquitto (MQTT) available on 127.0.0.1.
//
//   node scripts/with-brokers.mjs <command> [args...]
//
// Each broker that does not answer on its port is started (RabbitMQ: rabbitmq-server -detached;
// NATS: nats-server -js via start-stop-daemon; Kafka: scripts/kafka.sh; Mosquitto: mosquitto -d with
// /etc/mosquitto/mosquitto.conf, or a configuration of its own when there is none; the schema registry,
// Apicurio Registry's Confluent-compatible API on 8081: scripts/registry.sh). The command runs with
// inherited stdio and node_modules/.bin on PATH. Afterwards only the brokers started here are
// stopped, also on SIGINT/SIGTERM/SIGHUP; the exit code is the command's.
//
// Environment:
//   CODEGEN_BROKERS=none             no broker handling at all (just run the command)
//   CODEGEN_BROKERS=kafka,nats       handle only these (default: rabbitmq,nats,kafka,mosquitto,registry)
//   CODEGEN_KEEP_BROKERS=1           do not stop the brokers started here
//
// The three-node clusters of the fault tests (test/clusters/*.serial.test.ts) are started by those test
// files themselves (scripts/cluster.sh, other ports); any still running afterwards is stopped here.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const STATE_DIR = path.join(ROOT, '.cache', 'with-brokers');
const NATS_PIDFILE = path.join(STATE_DIR, 'nats.pid');
const MOSQUITTO_SYSTEM_CONF = '/etc/mosquitto/mosquitto.conf';
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

const log = (msg) => process.stderr.write(`[with-brokers] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

// ---------------------------------------------------------------- probes

/** Connects, optionally writes `hello`, and resolves with the bytes received once `enough(buf)`
 *  holds (or at once on connect without `enough`); rejects on refusal/timeout. */
function tcpProbe(port, { hello, enough, timeoutMs = 1500 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    let buf = Buffer.alloc(0);
    const done = (err, val) => {
      clearTimeout(timer);
      sock.destroy();
      err ? reject(err) : resolve(val);
    };
    const timer = setTimeout(() => done(new Error(`no answer on ${HOST}:${port} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('connect', () => {
      if (hello) sock.write(hello);
      if (!enough) done(null, Buffer.alloc(0));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (enough?.(buf)) done(null, buf);
    });
  });
}

async function portOpen(port) {
  try {
    await tcpProbe(port, { timeoutMs: 1000 });
    return true;
  } catch {
    return false;
  }
}

/** AMQP 0-9-1: after the protocol header the broker answers with a method frame (type 1). */
async function rabbitReady() {
  try {
    const hello = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
    const d = await tcpProbe(5672, { hello, enough: (b) => b.length >= 1 });
    return d[0] === 0x01 ? 'ok' : 'not-amqp';
  } catch {
    return 'down';
  }
}

/** NATS sends `INFO {json}` on connect; "jetstream": true when started with -js. */
async function natsReady() {
  try {
    const d = (await tcpProbe(4222, { enough: (b) => b.includes(0x0a) })).toString('utf8');
    if (!d.startsWith('INFO ')) return 'not-nats';
    const line = d.slice(5, d.indexOf('\n') >= 0 ? d.indexOf('\n') : undefined);
    let info = {};
    try {
      info = JSON.parse(line);
    } catch {
      /* partial INFO line: treat as no JetStream info */
    }
    return info.jetstream ? 'ok' : 'no-jetstream';
  } catch {
    return 'down';
  }
}

/** MQTT: a CONNECT (3.1.1, clean session, empty client id) is answered with a CONNACK (type 2). */
async function mosquittoReady() {
  try {
    const hello = Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]);
    const d = await tcpProbe(1883, { hello, enough: (b) => b.length >= 4 });
    return d[0] === 0x20 ? 'ok' : 'not-mqtt';
  } catch {
    return 'down';
  }
}

// ---------------------------------------------------------------- helpers

const helpers = new Set(); // helper processes in flight (killed on an interrupt during startup)

/** Runs a helper command, capturing its output (shown only when something goes wrong). Resolves on
 *  'exit', not 'close': daemons started by the helper may keep the pipes open. */
function run(cmd, args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      // own process group: a terminal Ctrl-C must not kill a helper halfway (e.g. kafka.sh stop)
      child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      resolve({ code: 127, out: String(e?.message ?? e) });
      return;
    }
    helpers.add(child);
    const timer = setTimeout(() => {
      out += `\n(timed out after ${timeoutMs / 1000}s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      helpers.delete(child);
      resolve({ code: 127, out: `${out}${e.code === 'ENOENT' ? `${cmd}: command not found` : e.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      helpers.delete(child);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code: code ?? 128 + (os.constants.signals[signal] ?? 1), out });
    });
  });
}

function indent(text) {
  const t = String(text ?? '').trim();
  return t ? '\n' + t.split('\n').slice(-25).map((l) => `    ${l}`).join('\n') : '';
}

function which(bin) {
  if (bin.includes('/')) return fs.existsSync(bin) ? bin : null;
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir || '.', bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

async function poll(check, timeoutMs, everyMs = 300) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (interrupted) throw new Error(`interrupted (${interrupted})`);
    last = await check();
    if (last === 'ok') return 'ok';
    await sleep(everyMs);
  }
  return last;
}

// ---------------------------------------------------------------- services

const kafkaSh = path.join(ROOT, 'scripts', 'kafka.sh');
const registrySh = path.join(ROOT, 'scripts', 'registry.sh');
const REGISTRY_PORT = 8081;

/** The Confluent-compatible API lists subjects as a JSON array. */
async function registryReady() {
  try {
    const response = await fetch(`http://${HOST}:${REGISTRY_PORT}/apis/ccompat/v7/subjects`, { signal: AbortSignal.timeout(2000) });
    return response.ok && (await response.text()).startsWith('[');
  } catch {
    return false;
  }
}

/** @type {Record<string, {port: number, check: () => Promise<boolean>, start: (launched: () => void, notOurs: () => void) => Promise<void>, verify?: () => Promise<void>, stop: () => Promise<void>}>} */
const SERVICES = {
  rabbitmq: {
    port: 5672,
    async check() {
      const st = await rabbitReady();
      if (st === 'not-amqp') throw new Error('port 5672 answers but not with AMQP 0-9-1');
      return st === 'ok';
    },
    async start(launched) {
      if (!which('rabbitmq-server')) throw new Error('not running and rabbitmq-server is not installed');
      launched();
      const r = await run('rabbitmq-server', ['-detached'], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`rabbitmq-server -detached failed (exit ${r.code})${indent(r.out)}`);
      const ready = await poll(rabbitReady, 90_000, 500);
      if (ready !== 'ok') {
        throw new Error('rabbitmq-server -detached ran but 5672 did not answer AMQP within 90s (see /var/log/rabbitmq/)');
      }
    },
    async stop() {
      let r = await run('rabbitmqctl', ['shutdown'], { timeoutMs: 90_000 });
      if (r.code !== 0) r = await run('rabbitmqctl', ['stop'], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`rabbitmqctl shutdown/stop failed (exit ${r.code})${indent(r.out)}`);
    },
  },

  nats: {
    port: 4222,
    async check() {
      const st = await natsReady();
      if (st === 'no-jetstream') {
        throw new Error('a NATS server answers on 4222 but without JetStream: restart it with -js');
      }
      if (st === 'not-nats') throw new Error('port 4222 answers but not with the NATS protocol');
      return st === 'ok';
    },
    async start(launched) {
      const bin = which('nats-server');
      if (!bin) throw new Error('not running and nats-server is not installed');
      const args = ['-a', HOST, '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log'];
      fs.mkdirSync(STATE_DIR, { recursive: true });
      fs.rmSync(NATS_PIDFILE, { force: true });
      let r;
      launched();
      if (which('start-stop-daemon')) {
        // --pidfile makes the stop exact, and keeps --oknodo from matching an unrelated nats-server.
        r = await run('start-stop-daemon', [
          '--start', '--oknodo', '--background', '--make-pidfile', '--pidfile', NATS_PIDFILE,
          '--exec', bin, '--', ...args,
        ]);
      } else {
        const child = spawn(bin, args, { detached: true, stdio: 'ignore' });
        child.unref();
        fs.writeFileSync(NATS_PIDFILE, `${child.pid}\n`);
        r = { code: 0, out: '' };
      }
      if (r.code !== 0) throw new Error(`starting nats-server failed (exit ${r.code})${indent(r.out)}`);
      const ready = await poll(natsReady, 15_000, 200);
      if (ready !== 'ok') {
        throw new Error(`nats-server did not answer with JetStream on 4222 within 15s (${ready}; see /var/log/nats-server.log)`);
      }
    },
    async stop() {
      if (which('start-stop-daemon')) {
        const r = await run('start-stop-daemon', [
          '--stop', '--oknodo', '--pidfile', NATS_PIDFILE, '--retry', 'TERM/10/KILL/5',
        ]);
        if (r.code !== 0) throw new Error(`start-stop-daemon --stop failed (exit ${r.code})${indent(r.out)}`);
      } else {
        const pid = Number(fs.readFileSync(NATS_PIDFILE, 'utf8'));
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        for (let i = 0; i < 50 && (await portOpen(4222)); i++) await sleep(200);
      }
      fs.rmSync(NATS_PIDFILE, { force: true });
    },
  },

  mosquitto: {
    port: 1883,
    async check() {
      const st = await mosquittoReady();
      if (st === 'not-mqtt') throw new Error('port 1883 answers but not with MQTT');
      return st === 'ok';
    },
    async start(launched) {
      if (!which('mosquitto')) throw new Error('not running and mosquitto is not installed');
      const conf = mosquittoConf();
      // The package's run folder is made by its service unit: a machine that never ran the service lacks it.
      const pidDir = path.dirname(mosquittoPidFile(conf));
      if (!fs.existsSync(pidDir)) await run('install', ['-d', '-o', 'mosquitto', '-g', 'mosquitto', pidDir]);
      launched();
      const r = await run(which('mosquitto'), ['-d', '-c', conf]);
      if (r.code !== 0) throw new Error(`mosquitto -d -c ${conf} failed (exit ${r.code})${indent(r.out)}`);
      const ready = await poll(mosquittoReady, 15_000, 200);
      if (ready !== 'ok') throw new Error(`mosquitto did not answer MQTT on 1883 within 15s (${ready})`);
    },
    async stop() {
      const pid = Number(fs.readFileSync(mosquittoPidFile(mosquittoConf()), 'utf8'));
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 50 && (await portOpen(1883)); i++) await sleep(200);
    },
  },

  kafka: {
    port: 9092,
    check: () => portOpen(9092),
    async start(launched, notOurs) {
      launched(); // kafka.sh stop also handles a broker that is still starting, or none
      const r = await run('bash', [kafkaSh, 'start'], { timeoutMs: 600_000 }); // first run fetches jars
      if (r.code !== 0) throw new Error(`scripts/kafka.sh start failed (exit ${r.code})${indent(r.out)}`);
      if (/already (running|starting)/.test(r.out)) notOurs(); // someone else was quicker
      if (interrupted) throw new Error(`interrupted (${interrupted})`);
      await this.verify();
    },
    /** port answers: make sure it serves clients (kafkajs probe) */
    async verify() {
      const w = await run('bash', [kafkaSh, 'wait'], { timeoutMs: 200_000 });
      if (w.code !== 0) throw new Error(`Kafka on 9092 does not serve clients (exit ${w.code})${indent(w.out)}`);
    },
    async stop() {
      const r = await run('bash', [kafkaSh, 'stop'], { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`scripts/kafka.sh stop failed (exit ${r.code})${indent(r.out)}`);
    },
  },

  registry: {
    port: REGISTRY_PORT,
    async check() {
      if (await registryReady()) return true;
      if (await portOpen(REGISTRY_PORT)) throw new Error(`port ${REGISTRY_PORT} answers but not with a schema registry's API`);
      return false;
    },
    async start(launched, notOurs) {
      launched();
      const r = await run('bash', [registrySh, 'start'], { timeoutMs: 600_000 }); // first run fetches the release
      if (r.code !== 0) throw new Error(`scripts/registry.sh start failed (exit ${r.code})${indent(r.out)}`);
      if (/already (running|starting)/.test(r.out)) notOurs();
      if (interrupted) throw new Error(`interrupted (${interrupted})`);
      const w = await run('bash', [registrySh, 'wait'], { timeoutMs: 240_000 });
      if (w.code !== 0) throw new Error(`the schema registry did not answer (exit ${w.code})${indent(w.out)}`);
    },
    async stop() {
      const r = await run('bash', [registrySh, 'stop'], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`scripts/registry.sh stop failed (exit ${r.code})${indent(r.out)}`);
    },
  },
};

/** The system's configuration when installed (as the Debian package leaves it), else one of our own. */
function mosquittoConf() {
  if (fs.existsSync(MOSQUITTO_SYSTEM_CONF)) return MOSQUITTO_SYSTEM_CONF;
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const conf = path.join(STATE_DIR, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [`pid_file ${path.join(STATE_DIR, 'mosquitto.pid')}`, 'listener 1883 127.0.0.1', 'allow_anonymous true', ''].join('\n'),
  );
  return conf;
}

function mosquittoPidFile(conf) {
  const line = fs.readFileSync(conf, 'utf8').split('\n').find((l) => /^pid_file\s/.test(l));
  if (!line) throw new Error(`${conf} names no pid_file: cannot stop mosquitto`);
  return line.replace(/^pid_file\s+/, '').trim();
}

// ---------------------------------------------------------------- main

const argv = process.argv.slice(2);
if (argv.length === 0) {
  log('usage: node scripts/with-brokers.mjs <command> [args...]');
  process.exit(2);
}

const mode = (process.env.CODEGEN_BROKERS ?? '').trim().toLowerCase();
const wanted =
  mode === 'none'
    ? []
    : mode === '' || mode === 'all'
      ? Object.keys(SERVICES)
      : mode.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of wanted) {
  if (!SERVICES[name]) {
    log(`CODEGEN_BROKERS: unknown service "${name}" (use none, all, or a list of ${Object.keys(SERVICES).join(',')})`);
    process.exit(2);
  }
}

/** services this process started (or was starting): the only ones it stops */
const ours = new Set();
let child = null;
let interrupted = null;
let cleanupPromise = null;

/** The fault tests start and stop their own three-node clusters (scripts/cluster.sh); one left running by an
 *  interrupted test file is stopped here. Nothing running: each stop is a quick no-op. */
async function stopTestClusters() {
  const clusterSh = path.join(ROOT, 'scripts', 'cluster.sh');
  await Promise.all(
    ['nats', 'kafka', 'rabbitmq'].map(async (broker) => {
      const r = await run('bash', [clusterSh, broker, 'stop'], { timeoutMs: 120_000 });
      if (r.code !== 0) log(`cluster ${broker}: could not stop${indent(r.out)}`);
    }),
  );
}

function cleanup() {
  cleanupPromise ??= (async () => {
    if (mode !== 'none') await stopTestClusters();
    if (ours.size === 0) return;
    if (process.env.CODEGEN_KEEP_BROKERS === '1') {
      log(`leaving running (CODEGEN_KEEP_BROKERS=1): ${[...ours].join(', ')}`);
      return;
    }
    await Promise.all(
      [...ours].reverse().map(async (name) => {
        const t0 = Date.now();
        log(`${name}: stopping (started by with-brokers)`);
        try {
          await SERVICES[name].stop();
          log(`${name}: stopped in ${secs(t0)}`);
        } catch (e) {
          log(`${name}: could not stop: ${e.message}`);
        }
      }),
    );
  })();
  return cleanupPromise;
}

for (const sig of Object.keys(SIGNALS)) {
  process.on(sig, () => {
    if (cleanupPromise) {
      log(`${sig}: already stopping brokers, please wait`);
      return;
    }
    if (child && child.exitCode === null && child.signalCode === null) {
      // The command decides how to end; brokers are stopped when it exits. (On a terminal,
      // Ctrl-C already reached it through the process group; a repeat is harmless.)
      if (!interrupted) log(`${sig}: passed on to the command; brokers are stopped after it exits`);
      interrupted ??= sig;
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
      return;
    }
    if (interrupted) {
      log(`${sig}: already stopping, please wait`);
      return;
    }
    interrupted = sig;
    log(`${sig}: interrupting startup; stopping what was started, then exiting`);
    for (const h of helpers) h.kill('SIGTERM'); // e.g. a kafka.sh wait; main() then cleans up
  });
}

async function main() {
  if (mode === 'none') log('CODEGEN_BROKERS=none: no broker handling');

  const results = await Promise.allSettled(
    wanted.map(async (name) => {
      const svc = SERVICES[name];
      const t0 = Date.now();
      try {
        if (await svc.check()) {
          if (svc.verify) await svc.verify();
          log(`${name}: already running on ${HOST}:${svc.port}, left as is`);
          return;
        }
        log(`${name}: not running on ${HOST}:${svc.port}, starting it`);
        // marked as ours as soon as its start command ran, so an interrupt or a failed
        // readiness wait still stops it
        await svc.start(
          () => ours.add(name),
          () => ours.delete(name),
        );
        log(`${name}: started on ${HOST}:${svc.port} in ${secs(t0)}`);
      } catch (e) {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { service: name });
      }
    }),
  );
  if (interrupted) {
    await cleanup();
    process.exit(128 + SIGNALS[interrupted]);
  }
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    for (const f of failed) log(`${f.reason.service ?? 'broker'}: FAILED: ${f.reason.message}`);
    log('not running the command (set CODEGEN_BROKERS=none to skip broker handling)');
    await cleanup();
    process.exit(1);
  }

  const [cmd, ...args] = argv;
  const binDir = path.join(ROOT, 'node_modules', '.bin');
  const env = { ...process.env, PATH: [binDir, process.env.PATH].filter(Boolean).join(path.delimiter) };
  log(`running: ${argv.join(' ')}`);
  const t0 = Date.now();
  child = spawn(cmd, args, { stdio: 'inherit', env });
  const code = await new Promise((resolve) => {
    child.on('error', (e) => {
      log(`cannot run ${cmd}: ${e.code === 'ENOENT' ? 'command not found' : e.message}`);
      resolve(127);
    });
    child.on('exit', (c, sig) => resolve(c ?? 128 + (os.constants.signals[sig] ?? 1)));
  });
  log(`command exited with code ${code} after ${secs(t0)}`);
  await cleanup();
  process.exit(code);
}

main().catch(async (e) => {
  log(`internal error: ${e?.stack ?? e}`);
  await cleanup();
  process.exit(1);
});
