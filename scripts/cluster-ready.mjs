#!/usr/bin/env node
// Readiness probe for the three-node test clusters (scripts/cluster.sh): exits 0 once the cluster
// can hold replicated data, i.e. a three-replica JetStream stream, a topic with replication factor
// 3 (and the group and transaction coordinators), or a quorum queue can be created.
//   node scripts/cluster-ready.mjs <nats|kafka|rabbitmq> <host:port,host:port,...> [timeoutMs]
import { pathToFileURL } from "node:url";
import { waitForKafka } from "./kafka-ready.mjs";

const PROBE = "codegen-cluster-probe";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function natsProbe(servers) {
  const { connect } = await import("@nats-io/transport-node");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const nc = await connect({ servers, timeout: 2000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const name = PROBE.replaceAll("-", "_");
    await jsm.streams.add({
      name,
      subjects: [`${PROBE}.>`],
      num_replicas: servers.length,
    });
    await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

async function rabbitProbe(servers) {
  const amqp = (await import("amqplib")).default;
  // every node must accept clients, and the quorum queue needs every member
  for (const server of servers) {
    const conn = await amqp.connect(`amqp://guest:guest@${server}`);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(PROBE, {
        durable: true,
        arguments: { "x-queue-type": "quorum" },
      });
      await ch.deleteQueue(PROBE);
    } finally {
      await conn.close().catch(() => {});
    }
  }
}

async function retry(probe, servers, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe(servers);
    } catch (e) {
      if (Date.now() >= deadline)
        throw new Error(`not ready after ${timeoutMs} ms: ${e?.message ?? e}`);
      await sleep(500);
    }
  }
}

export async function waitForCluster(broker, servers, timeoutMs = 120_000) {
  if (broker === "kafka") return waitForKafka(servers.join(","), timeoutMs);
  if (broker === "nats") return retry(natsProbe, servers, timeoutMs);
  if (broker === "rabbitmq") return retry(rabbitProbe, servers, timeoutMs);
  throw new Error(`unknown broker ${broker}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [broker, list = "", timeout = "120000"] = process.argv.slice(2);
  const t0 = Date.now();
  waitForCluster(broker, list.split(",").filter(Boolean), Number(timeout)).then(
    () => {
      console.error(
        `cluster ${broker}: ready on ${list} (probe ${Date.now() - t0} ms)`,
      );
      process.exit(0);
    },
    (e) => {
      console.error(`cluster ${broker}: ${e.message}`);
      process.exit(1);
    },
  );
}
