// Where things live on MQTT. The broker declares nothing ahead (topics exist as they are used), so the
// topology is naming: the topic of a channel address, the filter a consumer subscribes to (`+` for each
// level holding a parameter, `$share/<group>/` for competing consumers), dead-letter and reply topics.
import { concreteAddress } from '../operation.js';
import type { AnyMqttOperation, MqttOperation } from './options.js';

/** Maps the document's channel address to an MQTT topic and back. */
export interface TopicCodec {
  toTopic(address: string): string;
  toAddress(topic: string): string;
}

/** Addresses already written as MQTT topics (`devices/{id}/readings`). */
export const slashTopics: TopicCodec = { toTopic: (address) => address, toAddress: (topic) => topic };

/** Addresses written with `.` between levels (`orders.{region}.created`): each `.` becomes a level `/`. */
export const dotTopics: TopicCodec = {
  toTopic: (address) => address.replace(/\./g, '/'),
  toAddress: (topic) => topic.replace(/\//g, '.'),
};

/** The topics of one client: its operations' topics and filters behind the topic prefix, dead-letter and reply topics. */
export class Topics {
  constructor(
    readonly prefix: string,
    private readonly deadLetterPrefix: string,
  ) {}

  /** The topic of an outgoing event; parameter values are checked (no `/`, `+`, `#`) before anything is sent. */
  of<P>(
    operation: MqttOperation<unknown, unknown, P>,
    parameters: P | undefined,
    override: string | undefined,
    validate: boolean,
  ): string {
    if (override !== undefined) return override;
    if (operation.filter === null) throw noAddress(operation);
    return this.prefix + operation.topics.toTopic(concreteAddress(operation.spec, parameters, validate));
  }

  /** The topic filter a consumer subscribes to; `$share/<group>/<filter>` for a member of a group. */
  filterOf(operation: AnyMqttOperation, override: string | undefined, group: string | undefined): string {
    let filter = override;
    if (filter === undefined) {
      if (operation.filter === null) throw noAddress(operation);
      filter = this.prefix + operation.filter;
    }
    return group === undefined ? filter : `$share/${groupName(group)}/${filter}`;
  }

  /** Channel parameters of a received topic; undefined when the topic does not match the channel. */
  parametersOf<P>(operation: MqttOperation<unknown, unknown, P>, topic: string): P | undefined {
    if (operation.spec.parameterNames.length === 0) return {} as P;
    if (!topic.startsWith(this.prefix)) return undefined;
    return operation.spec.parseAddress(operation.topics.toAddress(topic.slice(this.prefix.length)));
  }

  /** `<prefix><deadLetterPrefix><topic without prefix>`. */
  deadLetterOf(topic: string): string {
    const local = topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
    return this.prefix + this.deadLetterPrefix + local;
  }

  /** The topic a client's replies come back on: one per client instance. */
  replyTopicOf(clientId: string): string {
    return `${this.prefix}replies/${clientId.replace(/[+#/\u0000]/g, '_')}`;
  }

  /** Span and metric name of an operation's destination: its topic filter (low cardinality), or the operation. */
  destinationOf(operation: AnyMqttOperation): string {
    return operation.filter === null ? operation.spec.operation : this.prefix + operation.filter;
  }
}

/** A share name cannot hold `/`, `+` or `#` (MQTT 5, 4.8.2). */
function groupName(group: string): string {
  if (group === '' || /[/+#]/.test(group))
    throw new TypeError(`the shared subscription group ${JSON.stringify(group)} must be non-empty, without / + #`);
  return group;
}

function noAddress(operation: AnyMqttOperation): TypeError {
  return new TypeError(
    `${operation.spec.operation}: the document gives no address for this channel; pass the mqttTopic option`,
  );
}
