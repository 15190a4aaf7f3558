// Sending: encoding an event into a NATS message (envelope in `ce-*` headers), core publishes (handed to
// the connection), JetStream publishes (confirmed by the stream, retried with the same `Nats-Msg-Id`),
// and dead letters.
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { InFlight } from '../consumer.js';
import type { CloudEventAttributes } from '../envelope.js';
import { ClientClosedError, errorMessage, PublishError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OperationSpec } from '../operation.js';
import { OutboundSpecs } from '../outbound-specs.js';
import {
  afterPrepared,
  prepareEvent,
  type OutboundEvent,
  type OutboundSpec,
  type PublishOptions,
} from '../producer.js';
import { retrying } from '../retry.js';
import { isNoStream, isTransient } from './failures.js';
import { NATS_HEADER_MAPPING, toNatsHeaders, toSafeNatsHeaders, type Subjects } from './message.js';
import {
  deliveryModeOf,
  type AnyNatsOperation,
  type NatsOperation,
  type NatsPublishOptions,
  type NatsPublishResult,
  type NatsSettings,
} from './options.js';
import type { JetStreamTopology } from './topology.js';

/** An event as it goes on the wire. */
export interface WireEvent {
  body: Uint8Array;
  headers: MsgHdrs;
  id: string;
  envelope: CloudEventAttributes;
}

export class NatsPublisher {
  private readonly specs: OutboundSpecs;
  /** What `prepareOutbound` fills in when a publish does not say. */
  private readonly defaults: { source: string; validate: boolean };

  constructor(
    private readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly settings: NatsSettings,
    private readonly subjects: Subjects,
    private readonly topology: JetStreamTopology,
    /** The client's calls in progress, which `close()` waits for. */
    private readonly inFlight: InFlight,
    /** Aborted when the client closes: retry waits end. */
    private readonly closing: AbortSignal,
    private readonly logger: Logger,
  ) {
    this.defaults = { source: settings.source, validate: settings.validate };
    this.specs = new OutboundSpecs(NATS_HEADER_MAPPING, settings.schemaRegistry);
  }

  /**
   * Validates, fills in the envelope, encodes: the event as it goes on the wire, sent to `subject` (which
   * names the schema registry subject of an Avro payload). A promise only when the registry may be asked.
   */
  encode<T, H>(
    spec: OperationSpec<T, H, unknown> | OutboundSpec<T, H>,
    payload: T,
    options: PublishOptions<H>,
    subject: string,
  ): WireEvent | Promise<WireEvent> {
    const outboundSpec = 'mapping' in spec ? spec : this.specs.of(spec, spec.eventType(payload));
    const event = prepareEvent(outboundSpec, payload, options, this.defaults, subject);
    return event instanceof Promise ? event.then(wireEvent) : wireEvent(event);
  }

  /** Not async: its errors reach the caller through the async `publish`, with one promise less per event. */
  send<T, H, P>(
    operation: NatsOperation<T, H, P>,
    payload: T,
    options: NatsPublishOptions<H> & { parameters?: P },
  ): Promise<NatsPublishResult> {
    const mode = deliveryModeOf(this.settings, operation as AnyNatsOperation, options.mode);
    const validate = options.validate ?? this.settings.validate;
    const subject = this.subjects.of(operation, options.parameters, options.natsSubject, validate);
    return afterPrepared(this.encode(operation.spec, payload, options, subject), (event) => {
      if (mode === 'core') {
        this.connection.publish(subject, event.body, { headers: event.headers });
        return Promise.resolve({ id: event.id, subject, mode });
      }
      return this.inFlight.track(this.publishDurably(operation as AnyNatsOperation, subject, event));
    });
  }

  /** JetStream publish: awaits the stream's acknowledgement; retries transient failures with the same `Nats-Msg-Id`. */
  private async publishDurably(
    operation: AnyNatsOperation,
    subject: string,
    { body, headers, id }: WireEvent,
  ): Promise<NatsPublishResult> {
    if (this.topology.needsStream(operation)) await this.topology.streamOf(operation);
    const ack = await retrying(
      () => this.js.publish(subject, body, { msgID: id, headers, timeout: this.settings.publishTimeoutMs }),
      {
        policy: this.settings.publishRetry,
        retryable: isTransient,
        failure: (error, attempts) => unconfirmed(operation, subject, id, attempts, error),
        onRetry: (error, attempt, delayMs) =>
          this.logger.warn(
            { eventId: id, operation: operation.spec.operation, attempt, delayMs, err: errorMessage(error) },
            'JetStream publish not confirmed; retrying',
          ),
        signal: this.closing,
        aborted: () => new ClientClosedError(),
      },
    );
    return { id, subject, mode: 'jetstream', stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Publishes an event that could not be processed, with the reason in its headers: a core publish, or
   * a confirmed JetStream publish when `durable` gives its `Nats-Msg-Id`.
   */
  async publishDeadLetter(
    subject: string,
    body: Uint8Array,
    headers: Record<string, string>,
    durable: { msgID: string } | undefined,
  ): Promise<void> {
    const natsHeaders = toSafeNatsHeaders(headers);
    if (!durable) {
      this.connection.publish(subject, body, { headers: natsHeaders });
      return;
    }
    await this.js.publish(subject, body, {
      headers: natsHeaders,
      msgID: durable.msgID,
      timeout: this.settings.publishTimeoutMs,
    });
  }
}

function wireEvent(event: OutboundEvent): WireEvent {
  return { body: event.body, headers: toNatsHeaders(event.headers), id: event.envelope.id, envelope: event.envelope };
}

function unconfirmed(
  operation: AnyNatsOperation,
  subject: string,
  id: string,
  attempts: number,
  error: unknown,
): PublishError {
  const hint = isNoStream(error)
    ? ` (no stream stores subject ${subject}: call declareTopology(), or use core mode)`
    : '';
  return new PublishError(
    `${operation.spec.operation}: JetStream did not confirm event ${id} on ${subject} after ${attempts} attempt(s): ${errorMessage(error)}${hint}`,
    { cause: error },
  );
}
