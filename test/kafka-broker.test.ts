// The Kafka broker from scripts/kafka.sh (or docker-compose.yml) serves a real round trip.
// A missing broker is a failure (npm test starts one through scripts/with-brokers.mjs).
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';

const HOST = '127.0.0.1';
const PORT = 9092;

function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const brokerUp = await portOpen(HOST, PORT);

describe(`Kafka broker on ${HOST}:${PORT}`, () => {
  it('serves a produce and consume round trip', async () => {
    expect(brokerUp, `no Kafka broker on ${HOST}:${PORT}; run: bash scripts/kafka.sh start && bash scripts/kafka.sh wait`).toBe(true);

    const id = randomUUID();
    const topic = `codegen-broker-test-${id}`;
    const kafka = new Kafka({ clientId: 'kafka-broker-test', brokers: [`${HOST}:${PORT}`], logLevel: logLevel.ERROR });
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `codegen-broker-test-${id}` });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });

      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k1', value: `hello ${id}`, headers: { h: 'v' } }] });

      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = await new Promise<{ key: string; value: string; h: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 20 s')), 20_000);
        void consumer
          .run({
            eachMessage: async ({ message }) => {
              clearTimeout(timer);
              resolve({
                key: message.key?.toString() ?? '',
                value: message.value?.toString() ?? '',
                h: message.headers?.h?.toString() ?? '',
              });
            },
          })
          .catch(reject);
      });
      expect(received).toEqual({ key: 'k1', value: `hello ${id}`, h: 'v' });
    } finally {
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  }, 60_000);
});
