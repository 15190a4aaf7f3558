#!/usr/bin/env node
// Readiness probe for the test Kafka broker, or a cluster of them (kafkajs).
//   node scripts/kafka-ready.mjs [host:port[,host:port...]=127.0.0.1:9092] [timeoutMs=60000]
// With several addresses it waits for that many brokers and creates its probe topic replicated
// on all of them.
// Exits 0 once the broker really serves clients: Metadata answers, the KRaft controller accepts a
// CreateTopics (broker unfenced), and the group and transaction coordinators are loaded (this also
// creates __consumer_offsets and __transaction_state, so the first test does not pay for it).
import { Kafka, logLevel } from 'kafkajs';
import { pathToFileURL } from 'node:url';

const PROBE_TOPIC = 'codegen-readiness-probe';

export async function waitForKafka(broker = '127.0.0.1:9092', timeoutMs = 60_000) {
  const brokerList = broker.split(',');
  const kafka = new Kafka({
    clientId: 'codegen-readiness-probe',
    brokers: brokerList,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  let step = 'connect';
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    const producer = kafka.producer({
      transactionalId: PROBE_TOPIC,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 }, // idempotence requires retries > 0
    });
    try {
      step = 'connect';
      await admin.connect();
      step = 'describeCluster';
      const { brokers } = await admin.describeCluster();
      if (brokers.length < brokerList.length) throw new Error(`${brokers.length} of ${brokerList.length} brokers registered`);
      step = 'createTopics';
      // false when the topic already exists: fine.
      await admin.createTopics({
        topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: brokerList.length }],
        waitForLeaders: true,
      });
      step = 'group coordinator';
      await admin.describeGroups([PROBE_TOPIC]);
      step = 'transaction coordinator';
      await producer.connect();
      const tx = await producer.transaction(); // FindCoordinator(TRANSACTION) + InitProducerId
      await tx.abort(); // nothing was sent: no EndTxn goes out
      return;
    } catch (e) {
      lastErr = e;
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Kafka at ${broker} not ready after ${timeoutMs} ms (${step}: ${lastErr?.message ?? 'timeout'})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const broker = process.argv[2] ?? '127.0.0.1:9092';
  const timeoutMs = Number(process.argv[3] ?? 60_000);
  const t0 = Date.now();
  waitForKafka(broker, timeoutMs).then(
    () => {
      console.error(`kafka: ready on ${broker} (probe ${Date.now() - t0} ms)`);
      process.exit(0);
    },
    (e) => {
      console.error(`kafka: ${e.message}`);
      process.exit(1);
    },
  );
}
