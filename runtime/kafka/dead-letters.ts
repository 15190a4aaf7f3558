// Dead letters on Kafka: reading a consumer's dead-letter topic without committing, sending records back
// to the topic they failed on, and recording which ones left. A topic cannot lose one record, so a
// dead letter leaves by a settlement record (`<dead-letter topic>.settled`, compacted, keyed by its
// place); the dedicated redrive group's committed offset moves past every settled record at the front,
// so later reads start there.
import { randomUUID } from 'node:crypto';
import type { Admin, Batch, Kafka, KafkaMessage } from 'kafkajs';
import {
  DeadLettersUnavailableError,
  textHeaders,
  type DeadLetterSession,
  type DeadLetterStore,
  type Settlement,
  type StoredDeadLetter,
} from '../dead-letters.js';
import { deferred } from '../deferred.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KafkaConnection } from './connection.js';
import { EMPTY_BODY, headersFromKafka } from './message.js';
import type { KafkaPublisher } from './publisher.js';

/** Where a Kafka dead letter came from, and where it sits. */
export interface KafkaDeadLetterOrigin {
  /** The topic, partition and offset of the record that failed. */
  topic: string;
  partition: number;
  offset: string;
  /** The record key, as text (null when it had none). */
  key: string | null;
  /** The consumer group that gave up. */
  consumerGroup: string | undefined;
  deadLetterTopic: string;
  deadLetterPartition: number;
  deadLetterOffset: string;
}

/** Headers the consumer adds when it dead-letters a record (runtime/kafka/consumer.ts). */
const ORIGIN_HEADERS = {
  topic: 'x-codegen-original-topic',
  partition: 'x-codegen-original-partition',
  offset: 'x-codegen-original-offset',
  timestamp: 'x-codegen-original-timestamp',
  group: 'x-codegen-consumer-group',
} as const;

/** Where an operation's dead letters are, as the transport knows it. */
export interface KafkaDeadLetterPlace {
  /** The dead-letter topics (or, for topics built from an address, a pattern of them). */
  topics: Array<string | RegExp>;
  /** The dedicated group whose committed offsets mark what was settled at the front of each partition. */
  redriveGroup: string;
}

/** One receive operation's dead-letter topics. */
export class KafkaDeadLetterStore implements DeadLetterStore<KafkaDeadLetterOrigin> {
  readonly destination: string;
  readonly bookkeepingHeaders = Object.values(ORIGIN_HEADERS);

  constructor(
    private readonly connection: KafkaConnection,
    private readonly publisher: KafkaPublisher,
    private readonly place: KafkaDeadLetterPlace,
    private readonly logger: Logger,
  ) {
    this.destination = place.topics.map(String).join(',');
  }

  async open(purpose: 'inspect' | 'settle'): Promise<DeadLetterSession<KafkaDeadLetterOrigin>> {
    if (this.place.topics.length === 0)
      throw new DeadLettersUnavailableError('dead-lettering is off (deadLetterTopic: false): there is nothing to read');
    const admin = await this.connection.admin();
    const existing = await admin.listTopics();
    const topics = existing
      .filter((topic) => this.place.topics.some((t) => (typeof t === 'string' ? t === topic : t.test(topic))))
      .sort();
    const settledTopics = topics.map(settledTopicOf);
    if (purpose === 'settle') await createSettledTopics(admin, settledTopics, existing);
    const present = new Set(purpose === 'settle' ? [...existing, ...settledTopics] : existing);
    const ranges = await rangesOf(admin, topics, this.place.redriveGroup);
    const settledRanges = await rangesOf(
      admin,
      settledTopics.filter((t) => present.has(t)),
      undefined,
    );
    const records = await readRanges(this.connection.kafka, [...ranges, ...settledRanges], this.logger);
    return new KafkaDeadLetterSession(
      this.connection.kafka,
      this.publisher,
      this.place.redriveGroup,
      ranges,
      records,
      this.logger,
    );
  }
}

/** The settlement topic of a dead-letter topic. */
function settledTopicOf(topic: string): string {
  return `${topic}.settled`;
}

async function createSettledTopics(admin: Admin, topics: string[], existing: string[]): Promise<void> {
  const missing = topics.filter((topic) => !existing.includes(topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    topics: missing.map((topic) => ({ topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })),
    waitForLeaders: true,
  });
}

/** A stretch of one partition to read: from `start` to `end` (exclusive; the end when the session opened). */
interface PartitionRange {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

/** Each partition of the topics, from the group's committed offset (else the log start) to its end now. */
async function rangesOf(admin: Admin, topics: string[], group: string | undefined): Promise<PartitionRange[]> {
  const ranges: PartitionRange[] = [];
  const committed = new Map<string, number>();
  if (group !== undefined && topics.length > 0) {
    for (const entry of await admin.fetchOffsets({ groupId: group, topics }))
      for (const p of entry.partitions) committed.set(`${entry.topic}:${p.partition}`, Number(p.offset));
  }
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const start = Math.max(Number(p.low), committed.get(`${topic}:${p.partition}`) ?? -1);
      ranges.push({ topic, partition: p.partition, start, end: Number(p.high) });
    }
  }
  return ranges;
}

/** A record read, with where it sits. */
interface PlacedRecord {
  topic: string;
  partition: number;
  record: KafkaMessage;
}

/** Longest wait for a read of the dead-letter topics. */
const READ_TIMEOUT_MS = 60_000;

/**
 * Reads the ranges with a consumer of a throwaway group that never commits (kafkajs reads only through
 * a group): it seeks each partition to its start and stops once every partition reached its end.
 */
async function readRanges(kafka: Kafka, ranges: PartitionRange[], logger: Logger): Promise<PlacedRecord[]> {
  const pending = new Map(ranges.filter((r) => r.start < r.end).map((r) => [`${r.topic}:${r.partition}`, r]));
  if (pending.size === 0) return [];
  const records: PlacedRecord[] = [];
  const done = deferred<void>();
  const consumer = kafka.consumer({ groupId: `codegen.dead-letters.${randomUUID()}`, maxWaitTimeInMs: 200 });
  const take = (batch: Batch) => {
    const range = pending.get(`${batch.topic}:${batch.partition}`);
    if (!range) return;
    for (const record of batch.messages) {
      const offset = Number(record.offset);
      if (offset >= range.start && offset < range.end)
        records.push({ topic: batch.topic, partition: batch.partition, record });
    }
    if (Number(batch.lastOffset()) >= range.end - 1) pending.delete(`${batch.topic}:${batch.partition}`);
    if (pending.size === 0) done.resolve();
  };
  const joined = deferred<void>();
  // Rejecting both ends the wait wherever it is; a rejection nobody awaits yet is not an unhandled one.
  const timer = setTimeout(() => {
    const error = new Error(`dead letters: reading took over ${READ_TIMEOUT_MS} ms`);
    joined.reject(error);
    done.reject(error);
  }, READ_TIMEOUT_MS);
  joined.promise.catch(() => undefined);
  done.promise.catch(() => undefined);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
    await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => take(batch) });
    await joined.promise;
    for (const range of pending.values())
      consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.start) });
    await done.promise;
  } finally {
    clearTimeout(timer);
    await consumer
      .disconnect()
      .catch((error: unknown) =>
        logger.warn({ err: errorMessage(error) }, 'dead letters: the reading consumer did not disconnect'),
      );
  }
  return records;
}

interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Commits offsets for a group as one of its members: it joins, commits and leaves, handling nothing
 * (admin.setOffsets does the same but waits for a full fetch, about five seconds).
 */
async function commitGroupOffsets(kafka: Kafka, group: string, offsets: TopicPartitionOffset[]): Promise<void> {
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
  const joined = deferred<void>();
  consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
  consumer.on(consumer.events.CRASH, (event) => joined.reject(event.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(offsets.map((o) => o.topic))] });
    // Nothing is resolved, and nothing committed but the offsets below.
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
    await joined.promise;
    await consumer.commitOffsets(offsets);
  } finally {
    await consumer.disconnect();
  }
}

/** The id of a dead letter: its place, `topic:partition:offset`. */
function idOf(topic: string, partition: number, offset: string | number): string {
  return `${topic}:${partition}:${offset}`;
}

/** Orders places by topic, partition, then offset; an id's place is read back from its text. */
function placeOf(id: string): [string, number, number] {
  const [offset, partition, ...topic] = id.split(':').reverse();
  return [topic.reverse().join(':'), Number(partition), Number(offset)];
}

function comparePlaces(a: [string, number, number], b: [string, number, number]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1] || a[2] - b[2];
}

/** The dead letters as they were when the session opened, settled ones left out. */
class KafkaDeadLetterSession implements DeadLetterSession<KafkaDeadLetterOrigin> {
  private readonly letters: Array<StoredDeadLetter<KafkaDeadLetterOrigin>> = [];
  private readonly keys = new Map<string, Buffer | null>();
  private readonly settled = new Set<string>();
  private changed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly publisher: KafkaPublisher,
    private readonly redriveGroup: string,
    private readonly ranges: PartitionRange[],
    records: PlacedRecord[],
    private readonly logger: Logger,
  ) {
    const deadLetterTopics = new Set(ranges.map((r) => r.topic));
    for (const { topic, record } of records)
      if (!deadLetterTopics.has(topic) && record.key) this.settled.add(record.key.toString('utf8'));
    for (const placed of records) {
      if (!deadLetterTopics.has(placed.topic)) continue;
      const id = idOf(placed.topic, placed.partition, placed.record.offset);
      if (this.settled.has(id)) continue;
      this.keys.set(id, placed.record.key);
      this.letters.push(storedOf(id, placed));
    }
    this.letters.sort((a, b) => comparePlaces(placeOf(a.id), placeOf(b.id)));
  }

  async read(limit: number, after: string | undefined): Promise<Array<StoredDeadLetter<KafkaDeadLetterOrigin>>> {
    const letters: Array<StoredDeadLetter<KafkaDeadLetterOrigin>> = [];
    for (let index = this.firstAfter(after); index < this.letters.length && letters.length < limit; index++) {
      const letter = this.letters[index]!;
      if (!this.settled.has(letter.id)) letters.push(letter);
    }
    return letters;
  }

  /** The index of the first dead letter placed after `after` (a binary search: the letters are in place order). */
  private firstAfter(after: string | undefined): number {
    if (after === undefined) return 0;
    const from = placeOf(after);
    let low = 0;
    let high = this.letters.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comparePlaces(placeOf(this.letters[middle]!.id), from) > 0) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** Back to the topic it failed on, with its key (so to the same partition as before, by default). */
  async republish(letter: StoredDeadLetter<KafkaDeadLetterOrigin>, headers: Record<string, unknown>): Promise<void> {
    const key = this.keys.get(letter.id) ?? null;
    await this.publisher.send(letter.origin.topic, {
      key,
      value: Buffer.from(letter.body),
      headers: textHeaders(headers),
    });
  }

  /** Records the settlement (acknowledged by the broker) before anything else may count on it. */
  async remove(letter: StoredDeadLetter<KafkaDeadLetterOrigin>, settlement: Settlement): Promise<void> {
    const value = JSON.stringify({ ...settlement, at: new Date().toISOString() });
    await this.publisher.send(settledTopicOf(letter.origin.deadLetterTopic), { key: letter.id, value });
    this.settled.add(letter.id);
    this.changed = true;
  }

  /** Moves the redrive group's offsets past the settled records at the front of each partition. */
  async close(): Promise<void> {
    if (!this.changed) return;
    const moves: TopicPartitionOffset[] = [];
    for (const range of this.ranges) {
      let offset = range.start;
      while (offset < range.end && this.isSettledOrGone(range, offset)) offset++;
      if (offset > range.start) moves.push({ topic: range.topic, partition: range.partition, offset: String(offset) });
    }
    if (moves.length === 0) return;
    // The settlement records already say what left; the offsets only spare later reads, so a failure to
    // move them (a redrive running elsewhere holds the group) is logged, and the next session moves them.
    await commitGroupOffsets(this.kafka, this.redriveGroup, moves).catch((error: unknown) =>
      this.logger.warn({ group: this.redriveGroup, err: errorMessage(error) }, 'dead letters: offsets not moved'),
    );
  }

  /** A record settled, or no dead letter at that offset (another topic's marker, a compacted gap). */
  private isSettledOrGone(range: PartitionRange, offset: number): boolean {
    const id = idOf(range.topic, range.partition, offset);
    return this.settled.has(id) || !this.keys.has(id);
  }
}

function storedOf(id: string, { topic, partition, record }: PlacedRecord): StoredDeadLetter<KafkaDeadLetterOrigin> {
  const headers = headersFromKafka(record.headers);
  return {
    id,
    body: record.value ?? EMPTY_BODY,
    headers,
    origin: {
      topic: headers[ORIGIN_HEADERS.topic] ?? topic.replace(/\.dlq$/, ''),
      partition: Number(headers[ORIGIN_HEADERS.partition] ?? -1),
      offset: headers[ORIGIN_HEADERS.offset] ?? '',
      key: record.key === null ? null : record.key.toString('utf8'),
      consumerGroup: headers[ORIGIN_HEADERS.group],
      deadLetterTopic: topic,
      deadLetterPartition: partition,
      deadLetterOffset: record.offset,
    },
  };
}
