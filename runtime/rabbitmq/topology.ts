// Exchanges, queues and routing keys: the AMQP shape of the document, and how it is declared.
import type { Channel } from 'amqplib';
import { segment } from '../operation.js';

/**
 * An address with its parameters left open: literal text and `{ parameter }` slots, in order.
 * `['orders.', { parameter: 'region' }, '.created']` is the routing key `orders.{region}.created`.
 */
export type AddressTemplate = ReadonlyArray<string | { parameter: string }>;

export type ExchangeType = 'topic' | 'direct' | 'fanout' | 'headers';

export interface ExchangeSpec {
  /** As in the document; '' is the default exchange. */
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
}

export interface QueueSpec {
  /** The queue name, which may hold channel parameters (`is: queue` channels). */
  name: AddressTemplate;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
}

/** Where a send operation publishes. */
export type SendDestination =
  /** `is: routingKey`: to an exchange, with the channel address as routing key. */
  | { kind: 'exchange'; exchange: ExchangeSpec; routingKey: AddressTemplate }
  /** `is: queue`: straight to a queue, through the default exchange. */
  | { kind: 'queue'; queue: QueueSpec };

/**
 * Where a receive operation consumes: the channel's queue itself (`is: queue`), or a queue of its own
 * (`<serviceName>.<operation>`) bound to the exchange with the routing key (`is: routingKey`).
 */
export type ReceiveSource = SendDestination;

/** Exchange and queue names as the client uses them: the document's names behind an optional prefix. */
export class Naming {
  constructor(private readonly prefix: string) {}

  /** The default exchange ('') and the broker's own `amq.*` names are never prefixed. */
  of(name: string): string {
    return name === '' || name.startsWith('amq.') ? name : this.prefix + name;
  }
}

/** Fills in an address: every parameter value is checked, so no value can widen or redirect it. */
export function formatAddress(template: AddressTemplate, parameters: unknown): string {
  const values = (parameters ?? {}) as Record<string, unknown>;
  let text = '';
  for (const part of template)
    text += typeof part === 'string' ? part : segment(values[part.parameter], part.parameter);
  return text;
}

/**
 * The binding key a consumer binds its queue with: parameters given by the consumer are filled in,
 * the others become `*` (topic exchanges). Fanout and headers exchanges ignore the key.
 */
export function bindingKey(
  type: ExchangeType,
  template: AddressTemplate,
  parameters: Record<string, unknown> | undefined,
): string {
  if (type === 'fanout' || type === 'headers') return '';
  let key = '';
  for (const part of template) {
    if (typeof part === 'string') key += part;
    else if (parameters?.[part.parameter] !== undefined) key += segment(parameters[part.parameter], part.parameter);
    else if (type === 'topic') key += '*';
    else
      throw new TypeError(
        `a ${type} exchange cannot match any value of parameter "${part.parameter}": give it in the consumer's \`parameters\``,
      );
  }
  return key;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Reads parameter values back from a concrete routing key or queue name; undefined when it does not match. */
export function addressReader(template: AddressTemplate): (address: string) => Record<string, string> | undefined {
  const names = template
    .filter((part): part is { parameter: string } => typeof part !== 'string')
    .map((part) => part.parameter);
  if (names.length === 0) return () => ({});
  const pattern = new RegExp(
    '^' + template.map((part) => (typeof part === 'string' ? escapeRegExp(part) : '([^./*#\\s]+)')).join('') + '$',
  );
  return (address) => {
    const match = pattern.exec(address);
    if (!match) return undefined;
    const values: Record<string, string> = {};
    names.forEach((name, index) =>
      Object.defineProperty(values, name, {
        value: match[index + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      }),
    );
    return values;
  };
}

/** Declares an exchange unless it is the default one or a broker's predeclared `amq.*` exchange. */
export async function declareExchange(channel: Channel, spec: ExchangeSpec, name: string): Promise<void> {
  if (name === '' || name.startsWith('amq.')) return;
  await channel.assertExchange(name, spec.type, { durable: spec.durable, autoDelete: spec.autoDelete });
}

export async function declareQueue(channel: Channel, spec: Omit<QueueSpec, 'name'>, name: string): Promise<string> {
  const reply = await channel.assertQueue(name, {
    durable: spec.durable,
    exclusive: spec.exclusive,
    autoDelete: spec.autoDelete,
  });
  return reply.queue;
}

/** Where dead letters of one consumer go: an exchange shared by the client, a queue per consuming queue. */
export interface DeadLetterRoute {
  exchange: string;
  queue: string;
  /** The consuming queue's name, which routes its dead letters to its own dead-letter queue. */
  routingKey: string;
}

export async function declareDeadLetterRoute(channel: Channel, route: DeadLetterRoute): Promise<void> {
  await channel.assertExchange(route.exchange, 'direct', { durable: true, autoDelete: false });
  await channel.assertQueue(route.queue, { durable: true, exclusive: false, autoDelete: false });
  await channel.bindQueue(route.queue, route.exchange, route.routingKey);
}
