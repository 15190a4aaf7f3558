// Sending: an event validated, in its envelope and encoded for the protocol version (message.ts), then
// published with the QoS, retain flag and expiry of its operation, and awaited until the broker
// acknowledged it (PUBACK for QoS 1, PUBCOMP for QoS 2), through reconnections, within `publishTimeoutMs`.
import type { InFlight } from '../consumer.js';
import { errorMessage, PublishError } from '../errors.js';
import type { OperationSpec } from '../operation.js';
import { OutboundSpecs } from '../outbound-specs.js';
import { prepareEvent, type OutboundEvent, type OutboundSpec, type PublishOptions } from '../producer.js';
import type { MqttConnection } from './connection.js';
import { MQTT_HEADER_MAPPING, toMqttMessage, type OutgoingMessage } from './message.js';
import type { MqttOperation, MqttPublishOptions, MqttPublishResult, MqttSettings, QoS } from './options.js';
import type { Topics } from './topology.js';

/** How one message is published. */
export interface Delivery {
  qos: QoS;
  retain?: boolean;
  /** Named in errors. */
  operation: string;
}

export class MqttPublisher {
  private readonly specs: OutboundSpecs;
  /** What `prepareOutbound` fills in when a publish does not say. */
  private readonly defaults: { source: string; validate: boolean };

  constructor(
    private readonly connection: MqttConnection,
    private readonly settings: MqttSettings,
    private readonly topics: Topics,
    /** The client's calls in progress, which `close()` waits for. */
    private readonly inFlight: InFlight,
  ) {
    this.defaults = { source: settings.source, validate: settings.validate };
    this.specs = new OutboundSpecs(MQTT_HEADER_MAPPING, settings.schemaRegistry);
  }

  /**
   * Validates, fills in the envelope, encodes: the event before it becomes an MQTT message, sent to
   * `topic` (which names the schema registry subject of an Avro payload). A promise only when the
   * registry may be asked.
   */
  encode<T, H>(
    spec: OperationSpec<T, H, unknown> | OutboundSpec<T, H>,
    payload: T,
    options: PublishOptions<H>,
    topic: string,
  ): OutboundEvent | Promise<OutboundEvent> {
    const outboundSpec = 'mapping' in spec ? spec : this.specs.of(spec, spec.eventType(payload));
    return prepareEvent(outboundSpec, payload, options, this.defaults, topic);
  }

  /** The topic of an outgoing event (parameters checked, prefix added). */
  topicOf<T, H, P>(
    operation: MqttOperation<T, H, P>,
    options: { parameters?: P; mqttTopic?: string; validate?: boolean },
  ) {
    return this.topics.of(operation, options.parameters, options.mqttTopic, options.validate ?? this.settings.validate);
  }

  /** The QoS of a call: its option, else the binding's, else the client's. */
  qosOf(operation: MqttOperation<unknown, unknown, unknown>, override?: QoS): QoS {
    return override ?? operation.qos ?? this.settings.qos;
  }

  /** Publishes one event of an operation and resolves once the broker acknowledged it. */
  async send<T, H, P>(
    operation: MqttOperation<T, H, P>,
    payload: T,
    options: MqttPublishOptions<H> & { parameters?: P },
  ): Promise<MqttPublishResult> {
    const topic = this.topicOf(operation, options);
    const prepared = this.encode(operation.spec, payload, options, topic);
    const event = prepared instanceof Promise ? await prepared : prepared;
    const qos = this.qosOf(operation as MqttOperation<unknown, unknown, unknown>, options.qos);
    const messageExpirySeconds = options.messageExpirySeconds ?? operation.messageExpirySeconds;
    await this.publish(
      topic,
      { body: event.body, headers: event.headers, messageExpirySeconds },
      { qos, retain: options.retain ?? operation.retain, operation: operation.spec.operation },
    );
    return { id: event.envelope.id, topic, qos };
  }

  /**
   * Publishes a message built elsewhere (a request, a reply, a dead letter); tracked so that close() waits
   * for it. Resolves with whether a subscriber matched (false only when an MQTT 5 broker said none did).
   */
  publish(topic: string, message: OutgoingMessage, delivery: Delivery): Promise<boolean> {
    return this.inFlight.track(this.acknowledged(topic, message, delivery));
  }

  /** One promise and one timer per publish: the publish's callback settles it, or the timeout does. */
  private acknowledged(topic: string, message: OutgoingMessage, delivery: Delivery): Promise<boolean> {
    const { payload, properties } = toMqttMessage(message, this.settings.mqttVersion);
    const options = { qos: delivery.qos, retain: delivery.retain ?? false, ...(properties ? { properties } : {}) };
    const timeoutMs = this.settings.publishTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new PublishError(
              `${delivery.operation}: the broker did not acknowledge the publish on ${topic} within ${timeoutMs} ms (it may still be delivered)`,
            ),
          ),
        timeoutMs,
      );
      this.connection.client.publish(topic, payload, options, (error, packet) => {
        clearTimeout(timer);
        if (error)
          reject(
            new PublishError(`${delivery.operation}: publish on ${topic} failed: ${errorMessage(error)}`, {
              cause: error,
            }),
          );
        else resolve(!this.connection.takeUnmatched(packet?.messageId));
      });
    });
  }
}
