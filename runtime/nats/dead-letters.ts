// Dead letters on NATS: the JetStream stream that stores a consumer's dead-letter subject, read with an
// ordered (ephemeral) consumer, each dead letter deleted by its sequence once its republish was confirmed.
// Core NATS publishes dead letters without storing them: they can be read later only when a stream
// stores the dead-letter subject (a JetStream consumer's `<stream>_DLQ` stream does).
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import {
  DeadLettersUnavailableError,
  textHeaders,
  type DeadLetterSession,
  type DeadLetterStore,
  type StoredDeadLetter,
} from '../dead-letters.js';
import { errorMessage } from '../errors.js';
import { apiCode, STREAM_NOT_FOUND } from './failures.js';
import { fromNatsHeaders } from './message.js';
import type { DeliveryMode } from './options.js';
import type { NatsPublisher } from './publisher.js';

/** Where a NATS dead letter came from, and where it is stored. */
export interface NatsDeadLetterOrigin {
  /** The subject the event arrived on. */
  subject: string;
  /** JetStream: the stream and sequence of the event that failed (undefined for a core NATS event). */
  stream: string | undefined;
  sequence: number | undefined;
  deadLetterSubject: string;
  deadLetterStream: string;
  deadLetterSequence: number;
}

/** Headers the consumer adds when it dead-letters an event (runtime/nats/consumer.ts). */
const ORIGIN_HEADERS = {
  subject: 'x-codegen-subject',
  stream: 'x-codegen-stream',
  sequence: 'x-codegen-stream-sequence',
} as const;

/** Longest wait of a read for dead letters the server said were there. */
const FETCH_EXPIRES_MS = 2_000;

export interface NatsDeadLetterParts {
  connection: NatsConnection;
  js: JetStreamClient;
  publisher: NatsPublisher;
}

/** The dead letters of one receive operation: its dead-letter subject (filter), in the stream that stores it. */
export class NatsDeadLetterStore implements DeadLetterStore<NatsDeadLetterOrigin> {
  readonly bookkeepingHeaders = Object.values(ORIGIN_HEADERS);

  constructor(
    private readonly parts: NatsDeadLetterParts,
    /** The dead-letter subject, or a filter of them (`dlq.orders.*.created`). */
    readonly destination: string,
    private readonly mode: DeliveryMode,
    /** False when the document gives the channel no address and no option names a subject. */
    private readonly addressed: boolean,
  ) {}

  async open(): Promise<DeadLetterSession<NatsDeadLetterOrigin>> {
    if (!this.addressed)
      throw new DeadLettersUnavailableError(
        `${this.destination}: the document gives no address for this channel; give the consumer option natsSubject or deadLetterSubject to the client`,
      );
    const jsm = await jetstreamManager(this.parts.connection);
    let stream: string;
    try {
      stream = await jsm.streams.find(this.destination);
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
      // A JetStream consumer makes its dead-letter stream when it starts: none yet, nothing dead-lettered yet.
      if (this.mode === 'jetstream') return EMPTY_SESSION;
      throw new DeadLettersUnavailableError(
        `no JetStream stream stores the dead-letter subject ${this.destination}: core NATS publishes dead letters without storing them, so they cannot be read later. Store the subject in a stream (a JetStream consumer of the channel creates one) to inspect and redrive them (${errorMessage(error)})`,
      );
    }
    const info = await jsm.streams.info(stream, { subjects_filter: this.destination });
    const subjects = Object.keys(info.state.subjects ?? {});
    if (subjects.length === 0) return EMPTY_SESSION;
    const last = await lastSequenceOf(jsm, stream, subjects, info.state.last_seq);
    return new NatsDeadLetterSession(this.parts, jsm, stream, this.destination, last);
  }
}

/** Subjects looked up one by one for the last dead letter; beyond, the stream's last sequence serves. */
const MAX_SUBJECT_LOOKUPS = 50;

/**
 * The sequence of the last dead letter on these subjects: a read knows it reached the end there, rather
 * than waiting for a fetch to expire (the stream may store later messages of other subjects).
 */
async function lastSequenceOf(
  jsm: StreamManager,
  stream: string,
  subjects: string[],
  streamLast: number,
): Promise<number> {
  if (subjects.length > MAX_SUBJECT_LOOKUPS) return streamLast;
  let last = 0;
  for (const subject of subjects) {
    const message = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    if (message) last = Math.max(last, message.seq);
  }
  return last || streamLast;
}

const EMPTY_SESSION: DeadLetterSession<NatsDeadLetterOrigin> = {
  read: async () => [],
  republish: async () => undefined,
  remove: async () => undefined,
  close: async () => undefined,
};

type StreamManager = Awaited<ReturnType<typeof jetstreamManager>>;

/** Reads the stream's dead letters up to the last sequence it had when the session opened. */
class NatsDeadLetterSession implements DeadLetterSession<NatsDeadLetterOrigin> {
  /** The last read reached the last dead letter there was: a read after it finds nothing, without waiting. */
  private endedAt: string | undefined;

  constructor(
    private readonly parts: NatsDeadLetterParts,
    private readonly jsm: StreamManager,
    private readonly stream: string,
    private readonly filter: string,
    private readonly lastSequence: number,
  ) {}

  async read(limit: number, after: string | undefined): Promise<Array<StoredDeadLetter<NatsDeadLetterOrigin>>> {
    const start = after === undefined ? 1 : Number(after) + 1;
    if (after !== undefined && after === this.endedAt) return [];
    if (!(start <= this.lastSequence)) return [];
    const consumer = await this.parts.js.consumers.get(this.stream, {
      // One subject as text: servers before 2.10 know only `filter_subject`.
      filter_subjects: this.filter,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
    });
    const messages = await consumer.fetch({ max_messages: limit, expires: FETCH_EXPIRES_MS });
    const letters: Array<StoredDeadLetter<NatsDeadLetterOrigin>> = [];
    for await (const message of messages) {
      if (message.seq > this.lastSequence) break;
      letters.push(this.storedOf(message));
      if (message.info.pending === 0 || message.seq === this.lastSequence) {
        this.endedAt = String(message.seq);
        break;
      }
      if (letters.length >= limit) break;
    }
    messages.stop();
    return letters;
  }

  /**
   * To the subject it arrived on: a JetStream event with a `Nats-Msg-Id` of its own (this dead letter's),
   * so a redrive repeated within the stream's duplicate window is stored once; a core NATS event with a
   * core publish, flushed to the server (nothing more confirms it).
   */
  async republish(letter: StoredDeadLetter<NatsDeadLetterOrigin>, headers: Record<string, unknown>): Promise<void> {
    const { origin } = letter;
    const durable = origin.stream === undefined ? undefined : { msgID: `${this.stream}:${letter.id}:redrive` };
    await this.parts.publisher.publishDeadLetter(origin.subject, letter.body, textHeaders(headers), durable);
    if (!durable) await this.parts.connection.flush();
  }

  async remove(letter: StoredDeadLetter<NatsDeadLetterOrigin>): Promise<void> {
    await this.jsm.streams.deleteMessage(this.stream, letter.origin.deadLetterSequence, false);
  }

  async close(): Promise<void> {}

  private storedOf(message: JsMsg): StoredDeadLetter<NatsDeadLetterOrigin> {
    const headers = fromNatsHeaders(message.headers).headers;
    const sequence = headers[ORIGIN_HEADERS.sequence];
    return {
      id: String(message.seq),
      body: message.data,
      headers,
      origin: {
        subject: headers[ORIGIN_HEADERS.subject] ?? message.subject,
        stream: headers[ORIGIN_HEADERS.stream],
        sequence: sequence === undefined ? undefined : Number(sequence),
        deadLetterSubject: message.subject,
        deadLetterStream: this.stream,
        deadLetterSequence: message.seq,
      },
    };
  }
}
