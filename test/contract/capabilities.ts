/**
 * Where a documented guarantee differs by broker by design, the difference is data: this table. The
 * contract tests read it to assert each broker's documented behaviour (never to skip one), and
 * docs/guarantees.md is rendered from it (test/contract/guarantees-doc.test.ts keeps the two equal).
 */

/** The brokers the contract runs on; NATS twice, because core and JetStream promise different things. */
export const BROKER_NAMES = ['rabbitmq', 'kafka', 'nats-core', 'nats-jetstream'] as const;
export type BrokerName = (typeof BROKER_NAMES)[number];

export interface Capabilities {
  /** The generated target (`--target`) the broker runs. */
  target: 'rabbitmq' | 'kafka' | 'nats';
  /** What a resolved publish means. */
  publishResolves: 'confirmed' | 'written to the connection';
  /**
   * An event published while no consumer of its operation runs is delivered once one (of the same
   * queue, group or durable) starts. Core NATS keeps nothing: such an event is lost.
   */
  keepsEventsWithoutConsumer: boolean;
  /**
   * An event held by a consumer process that dies (SIGKILL) before settling it is delivered to the next
   * consumer of the same queue, group or durable (at-least-once across a crash). Core NATS: lost.
   */
  survivesConsumerCrash: boolean;
  /** How a failing handler is tried again: in the process holding the event, or by the broker delivering it again. */
  retry: 'in process' | 'redelivered by the broker';
  /**
   * Who drops an event re-published with the same id: the consumer's de-duplication store, or already
   * the broker (JetStream's `Nats-Msg-Id` window; the publish resolves with `duplicate: true`).
   */
  duplicateDroppedBy: 'consumer' | 'broker';
  /** Where a dead letter of the `readings` operation goes (`<p>`: the run's name prefix). */
  deadLetterDestination: string;
  /**
   * An event whose concrete address holds a parameter value the document does not allow: dead-lettered
   * (`invalid-address`), or (Kafka, topic fixed by the binding, address in `x-codegen-address`) handled with
   * `parameters` undefined, as docs/targets/kafka.md documents.
   */
  invalidAddressOnReceipt: 'dead-lettered' | 'handled without parameters';
  /** A binding can demand a message key, which every publish must then give. */
  keys: boolean;
  /** What the requester gets when the responder fails (handler throws, or returns an invalid reply). */
  responderFailure: 'RequestFailedError' | 'ReplyTimeoutError';
  /** What the requester gets when no responder listens. */
  noResponder: 'PublishError' | 'ReplyTimeoutError';
  /**
   * How the contract suite cuts the client's connection to check it reconnects, or why it cannot on
   * a broker shared with other test runs.
   */
  reconnection:
    | {
        exercised: true;
        how: string;
        /**
         * An event published right after the cut: delivered (the publish waits for the connection and
         * its confirm), or possibly lost (core NATS: at-most-once; later publishes get through).
         */
        publishedAfterTheCut: 'delivered' | 'may be lost';
      }
    | { exercised: false; why: string };
}

/** What core NATS and JetStream share: one client, one connection, native request/reply. */
const NATS = {
  target: 'nats',
  invalidAddressOnReceipt: 'dead-lettered',
  keys: false,
  responderFailure: 'RequestFailedError',
  noResponder: 'PublishError',
} as const;

const NATS_RECONNECTION = { exercised: true, how: "the client's connection is dropped and reopened (`connection.reconnect()`)" } as const;

export const CAPABILITIES: Record<BrokerName, Capabilities> = {
  rabbitmq: {
    target: 'rabbitmq',
    publishResolves: 'confirmed',
    keepsEventsWithoutConsumer: true,
    survivesConsumerCrash: true,
    retry: 'in process',
    duplicateDroppedBy: 'consumer',
    deadLetterDestination: 'queue `<p>contract.onReading.dlq` (exchange `<p>contract.dlx`)',
    invalidAddressOnReceipt: 'dead-lettered',
    keys: false,
    responderFailure: 'ReplyTimeoutError',
    noResponder: 'ReplyTimeoutError',
    reconnection: {
      exercised: true,
      how: 'the broker closes the connections of a vhost of the run (`rabbitmqctl close_all_connections`)',
      publishedAfterTheCut: 'delivered',
    },
  },
  kafka: {
    target: 'kafka',
    publishResolves: 'confirmed',
    keepsEventsWithoutConsumer: true,
    survivesConsumerCrash: true,
    retry: 'in process',
    duplicateDroppedBy: 'consumer',
    deadLetterDestination: 'topic `<p>contract.readings.dlq`',
    invalidAddressOnReceipt: 'handled without parameters',
    keys: true,
    responderFailure: 'RequestFailedError',
    noResponder: 'ReplyTimeoutError',
    reconnection: {
      exercised: false,
      why: 'clients reach the partition leaders at the addresses the broker advertises, so a connection can only be cut by stopping the shared broker; test/kafka/restart.serial.test.ts restarts it, alone',
    },
  },
  'nats-core': {
    ...NATS,
    publishResolves: 'written to the connection',
    keepsEventsWithoutConsumer: false,
    survivesConsumerCrash: false,
    retry: 'in process',
    duplicateDroppedBy: 'consumer',
    deadLetterDestination: 'subject `<p>dlq.contract.sites.<siteId>.readings` (a core publish)',
    reconnection: { ...NATS_RECONNECTION, publishedAfterTheCut: 'may be lost' },
  },
  'nats-jetstream': {
    ...NATS,
    publishResolves: 'confirmed',
    keepsEventsWithoutConsumer: true,
    survivesConsumerCrash: true,
    retry: 'redelivered by the broker',
    duplicateDroppedBy: 'broker',
    deadLetterDestination: 'subject `<p>dlq.contract.sites.<siteId>.readings`, stored in stream `<P>READINGS_DLQ`',
    reconnection: { ...NATS_RECONNECTION, publishedAfterTheCut: 'delivered' },
  },
};

/** One row of the documentation table: a guarantee and how it reads for each broker. */
interface Row {
  guarantee: string;
  cell(capabilities: Capabilities): string;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

const ROWS: Row[] = [
  { guarantee: 'a publish resolves when the event is', cell: (c) => c.publishResolves },
  { guarantee: 'an event published while no consumer runs is delivered later', cell: (c) => (c.keepsEventsWithoutConsumer ? 'yes' : 'no: it is lost') },
  { guarantee: 'an event held by a consumer killed with SIGKILL is delivered to the next consumer', cell: (c) => (c.survivesConsumerCrash ? 'yes' : 'no: it is lost') },
  { guarantee: 'a failing handler is retried', cell: (c) => c.retry },
  { guarantee: 'an event re-published with the same id is dropped by', cell: (c) => c.duplicateDroppedBy },
  { guarantee: 'dead letters of `readings` go to', cell: (c) => c.deadLetterDestination },
  { guarantee: 'an address with a parameter outside the document, on receipt, is', cell: (c) => c.invalidAddressOnReceipt },
  { guarantee: 'a binding can demand a key (`invalid-key` without it)', cell: (c) => yesNo(c.keys) },
  { guarantee: 'a responder that fails makes the request reject with', cell: (c) => `\`${c.responderFailure}\`` },
  { guarantee: 'a request nobody answers rejects with', cell: (c) => `\`${c.noResponder}\`` },
  { guarantee: 'reconnection tested by the contract suite', cell: (c) => (c.reconnection.exercised ? `yes: ${c.reconnection.how}` : `no: ${c.reconnection.why}`) },
  { guarantee: 'an event published right after the connection was cut is', cell: (c) => (c.reconnection.exercised ? c.reconnection.publishedAfterTheCut : 'not measured here') },
];

/** The "differs by broker" table of docs/guarantees.md, as Markdown. */
export function capabilitiesTable(): string {
  const header = `| guarantee | ${BROKER_NAMES.join(' | ')} |`;
  const rule = `|---|${BROKER_NAMES.map(() => '---').join('|')}|`;
  const rows = ROWS.map((row) => `| ${row.guarantee} | ${BROKER_NAMES.map((name) => row.cell(CAPABILITIES[name]).replace(/\|/g, '\\|')).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

/** A guarantee the contract suite proves the same way on every broker, and the file that proves it. */
interface SharedGuarantee {
  guarantee: string;
  file: string;
}

export const SHARED_GUARANTEES: SharedGuarantee[] = [
  { guarantee: 'the options types require headers (when a header is required), parameters (when the channel has some) and a demanded key, and the brokers agree', file: 'types.test.ts' },
  { guarantee: 'an invalid payload, header set (present or absent), parameter set (absent, outside the document, or holding a separator or wildcard) or key is refused with `EventValidationError` and its reason (`invalid-payload`, `invalid-headers`, `invalid-address`, `invalid-key`), never a `TypeError`, and nothing reaches the broker', file: 'validation.test.ts' },
  { guarantee: 'a received event with an invalid payload or headers (written by another producer, or published with `validate: false`) is dead-lettered with its reason, never handed to the handler; a valid one arrives with typed headers and parameters', file: 'validation.test.ts' },
  { guarantee: 'an event is handled once, in publish order, with its envelope', file: 'delivery.test.ts' },
  { guarantee: 'an id published twice, or written twice by another producer, runs the handler once', file: 'delivery.test.ts' },
  { guarantee: 'a failing handler is retried (`context.attempt` counts); one that keeps failing is dead-lettered with `handler-failed`, its attempts and its body unchanged, and the consumer carries on', file: 'delivery.test.ts' },
  { guarantee: 'a request resolves with the validated reply and its envelope; an invalid request is refused before sending', file: 'request-reply.test.ts' },
  { guarantee: '`close()` waits for the handlers and the publishes in progress (those events reach the broker); afterwards publishes and requests reject with `ClientClosedError` and send nothing', file: 'lifecycle.test.ts' },
];

/** The "every broker" table of docs/guarantees.md, as Markdown. */
export function sharedTable(): string {
  const rows = SHARED_GUARANTEES.map((row) => `| ${row.guarantee} | ${BROKER_NAMES.map(() => 'yes').join(' | ')} | \`test/contract/${row.file}\` |`);
  return [`| guarantee | ${BROKER_NAMES.join(' | ')} | proved by |`, `|---|${BROKER_NAMES.map(() => '---').join('|')}|---|`, ...rows].join('\n');
}
