// Sending: validation, the envelope and the Kafka record of each event, PRODUCER spans, and the
// long-lived batching producer every publish, dead letter and reply goes through.
import { randomUUID } from 'node:crypto';
import {
  Partitioners,
  type IHeaders,
  type KafkaConfig,
  type Message,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import type { SchemaRegistryOptions } from '../codec.js';
import type { CloudEventAttributes } from '../envelope.js';
import { concreteAddress } from '../operation.js';
import type { Logger } from '../logger.js';
import { OutboundSpecs } from '../outbound-specs.js';
import { prepareEvent } from '../producer.js';
import { Telemetry, type TelemetryOptions } from '../telemetry.js';
import { BatchingSender, senderSettings } from './batching.js';
import type { KafkaConnection, LazyClient } from './connection.js';
import { ADDRESS_HEADER, KAFKA_HEADER_MAPPING, encodeKey, keyAttribute, toBuffer } from './message.js';
import type { KafkaOperation, KafkaProducerOptions, KafkaSendOptions, PublishedEvent } from './options.js';
import type { TopicNames } from './topology.js';

/** A Kafka record ready to send, with the topic it goes to and the envelope it carries. */
export interface OutgoingRecord {
  topic: string;
  message: Message;
  envelope: CloudEventAttributes;
}

export interface PublisherSettings {
  source: string;
  validate: boolean;
  producer: KafkaProducerOptions;
  /** The kafkajs client settings (their `retry` is the producer's too). */
  client?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
  logger: Logger;
  schemaRegistry?: SchemaRegistryOptions;
}

/** A kafkajs producer configuration: the client's `producer.config` between our defaults and `overrides`. */
export function producerConfig(options: KafkaProducerOptions, overrides: ProducerConfig): ProducerConfig {
  return {
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: true,
    ...options.config,
    ...overrides,
  };
}

/**
 * Whether the producer is idempotent (the default). Refuses, when the client is made, what kafkajs
 * would only refuse at the first send: `acks` 0 or 1, or no retries (`retry.retries: 0`), without
 * `idempotent: false`.
 */
export function isIdempotent(
  options: KafkaProducerOptions,
  client: Omit<KafkaConfig, 'brokers' | 'clientId'> | undefined,
): boolean {
  if (options.idempotent === false) return false;
  const acks: number | undefined = options.acks;
  const retries = options.config?.retry?.retries ?? client?.retry?.retries;
  const refused =
    acks !== undefined && acks !== -1
      ? `\`producer.acks: ${acks}\` (the idempotent producer waits for all in-sync replicas: acks -1)`
      : retries !== undefined && retries < 1
        ? `\`retry.retries: ${retries}\` (kafkajs' idempotent producer must be allowed to retry)`
        : undefined;
  if (refused) throw new TypeError(`kafka client: ${refused} needs \`producer.idempotent: false\``);
  return true;
}

/**
 * OpenTelemetry, loaded once in the background (the client is made synchronously and @opentelemetry/api
 * is imported only when installed); once loaded, publishes take it without an await.
 */
export class BackgroundTelemetry {
  readonly ready: Promise<Telemetry>;
  private current: Telemetry | undefined;

  constructor(options: TelemetryOptions | undefined) {
    this.ready = Telemetry.create('kafka', options)
      .catch(() => Telemetry.disabled('kafka'))
      .then((telemetry) => (this.current = telemetry));
  }

  /** The telemetry when it is loaded (undefined before). */
  get loaded(): Telemetry | undefined {
    return this.current;
  }
}

/** Publishes events of the document's operations through one long-lived producer, connected on first use. */
export class KafkaPublisher {
  private readonly producer: LazyClient<Producer>;
  private readonly sender: BatchingSender;
  private readonly outboundSpecs: OutboundSpecs;

  constructor(
    connection: KafkaConnection,
    private readonly topics: TopicNames,
    private readonly telemetry: BackgroundTelemetry,
    private readonly settings: PublisherSettings,
  ) {
    this.outboundSpecs = new OutboundSpecs(KAFKA_HEADER_MAPPING, settings.schemaRegistry);
    const idempotent = isIdempotent(settings.producer, settings.client);
    this.producer = connection.lazy(() => {
      const producer = connection.kafka.producer(
        producerConfig(settings.producer, { idempotent, ...(idempotent ? { maxInFlightRequests: 1 } : {}) }),
      );
      producer.on(producer.events.DISCONNECT, () => this.producer.reset());
      return producer;
    });
    this.sender = new BatchingSender(() => this.producer.get(), senderSettings(settings.producer), settings.logger);
  }

  /** Publishes one event and resolves once the broker acknowledged it. */
  publish<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    payload: T,
    options: KafkaSendOptions<H, P>,
  ): Promise<PublishedEvent> {
    return this.traced(operation, options, async (traced) => {
      const { topic, message, envelope } = await this.prepare(operation, payload, traced);
      await this.sender.send(topic, message);
      return { id: envelope.id, topic, envelope };
    });
  }

  /**
   * Runs `send` in a PRODUCER span when tracing is on (for a request, the span lasts until the reply
   * came); the span's trace context goes into the envelope unless the caller gave one.
   */
  async traced<T, H, P, O extends KafkaSendOptions<H, P>, R>(
    operation: KafkaOperation<T, H, P>,
    options: O,
    send: (options: O) => Promise<R>,
  ): Promise<R> {
    const telemetry = this.telemetry.loaded ?? (await this.telemetry.ready);
    if (!telemetry.active) return send(options);
    const id = options.id ?? randomUUID();
    return telemetry.publish(
      this.topics.destinationName(operation.channel),
      { id, correlationId: options.correlationId },
      () => ({ 'messaging.kafka.message.key': keyAttribute(options.key) }),
      (trace) => send(options.traceparent === undefined ? { ...options, id, ...trace } : { ...options, id }),
    );
  }

  /** Validates, builds the envelope and the Kafka record of one event (an Avro or Protobuf body may ask the schema registry first). */
  async prepare<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    payload: T,
    options: KafkaSendOptions<H, P>,
    extraHeaders?: Record<string, string>,
  ): Promise<OutgoingRecord> {
    const validate = options.validate ?? this.settings.validate;
    const spec = operation.spec;
    let address: string | undefined;
    if (operation.channel.hasParameters) address = concreteAddress(spec, options.parameters, validate);
    const topic = this.topics.of(operation.channel, address);
    const outboundSpec = this.outboundSpecs.of(spec, spec.eventType(payload));
    const defaults = { source: this.settings.source, validate };
    const prepared = prepareEvent(outboundSpec, payload, options, defaults, topic);
    // JSON is prepared at once: no await (a microtask per event) on the hot path.
    const outbound = prepared instanceof Promise ? await prepared : prepared;
    const headers: IHeaders = outbound.headers;
    if (address !== undefined && this.topics.carriesAddress(operation.channel)) headers[ADDRESS_HEADER] = address;
    if (extraHeaders) Object.assign(headers, extraHeaders);
    const message: Message = {
      key: encodeKey(options.key, operation.key, validate, spec.operation),
      value: toBuffer(outbound.body),
      headers,
    };
    if (options.partition !== undefined) message.partition = options.partition;
    return { topic, message, envelope: outbound.envelope };
  }

  /** Sends a record built elsewhere (a dead letter, a reply) in the next batch. */
  send(topic: string, message: Message): Promise<void> {
    return this.sender.send(topic, message);
  }

  /** Resolves when every queued event has been sent or has failed; retries through an outage end at `giveUpAt`. */
  flush(giveUpAt: number): Promise<void> {
    return this.sender.flush(giveUpAt);
  }
}
