import { documentError } from '../../errors.js';
import { isRecord } from '../../load/json.js';
import type { Bindings, Origin } from '../../model/types.js';

/**
 * The AMQP bindings (0.1.0 to 0.3.0) of channels, operations and messages, read and checked once.
 * Fields the binding leaves out get RabbitMQ's usual production defaults (durable, not auto-deleted).
 * A field of the wrong type is a document error that points at the field.
 */

export type ExchangeType = 'topic' | 'direct' | 'fanout' | 'headers';

export interface ExchangeBinding {
  /** Undefined: the document's default exchange. '' (or `type: default`): the default exchange. */
  name?: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  /** The virtual host the exchange lives in (0.2.0/0.3.0 `vhost`). */
  vhost?: string;
}

export interface QueueBinding {
  name?: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  vhost?: string;
}

/** RabbitMQ's `x-queue-type` argument; stream queues are not supported by the client (docs/targets/rabbitmq.md). */
export type QueueType = 'classic' | 'quorum';

export interface ChannelBinding {
  is: 'routingKey' | 'queue';
  exchange?: ExchangeBinding;
  queue?: QueueBinding;
  /**
   * The extension `x-queue-type` of the channel binding (the amqp bindings up to 0.3.0 have no queue type):
   * the type of the channel's queue (`is: queue`) or of the queues consumers bind to it (`is: routingKey`).
   */
  queueType?: QueueType;
}

export interface OperationBinding {
  expiration?: number;
  userId?: string;
  cc?: string[];
  bcc?: string[];
  priority?: number;
  deliveryMode?: 1 | 2;
  mandatory?: boolean;
  replyTo?: string;
  timestamp?: boolean;
  ack?: boolean;
}

export interface MessageBinding {
  contentEncoding?: string;
  messageType?: string;
}

/** Reads typed fields of one binding object, reporting a wrong type at its JSON pointer. */
class FieldReader {
  constructor(
    private readonly value: Record<string, unknown>,
    private readonly origin: Origin,
    private readonly pointer: string,
  ) {}

  child(key: string): FieldReader | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (!isRecord(value)) throw this.error(key, 'must be an object');
    return new FieldReader(value, this.origin, `${this.pointer}/${key}`);
  }

  string(key: string): string | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw this.error(key, 'must be a string');
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw this.error(key, 'must be true or false');
    return value;
  }

  integer(key: string, min: number, max: number): number | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw this.error(key, `must be an integer from ${min} to ${max}`);
    return value;
  }

  oneOf<T extends string | number>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) throw this.error(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return value as T;
  }

  strings(key: string): string[] | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw this.error(key, 'must be a list of strings');
    return value as string[];
  }

  error(key: string, problem: string) {
    const pointer = `${this.pointer}/${key}`;
    return documentError('E_AMQP_BINDING', `amqp binding: "${key}" ${problem}`, { file: this.origin.file, pointer });
  }
}

function readerOf(bindings: Bindings, origin: Origin): FieldReader | undefined {
  const amqp = bindings.amqp;
  return amqp ? new FieldReader(amqp, origin, `${origin.pointer}/bindings/amqp`) : undefined;
}

export function readChannelBinding(bindings: Bindings, origin: Origin): ChannelBinding | undefined {
  const reader = readerOf(bindings, origin);
  if (!reader) return undefined;
  const exchange = reader.child('exchange');
  const queue = reader.child('queue');
  const binding: ChannelBinding = {
    is: reader.oneOf('is', ['routingKey', 'queue'] as const) ?? 'routingKey',
    exchange: exchange ? readExchange(exchange) : undefined,
    queue: queue ? readQueue(queue) : undefined,
    queueType: reader.oneOf(QUEUE_TYPE_KEY, ['classic', 'quorum'] as const),
  };
  const { queue: flags } = binding;
  if (binding.queueType === 'quorum' && flags && (!flags.durable || flags.exclusive || flags.autoDelete))
    throw reader.error(QUEUE_TYPE_KEY, 'is "quorum", but the queue is not durable, or exclusive, or auto-deleted: a quorum queue is durable, not exclusive, not auto-deleted');
  return binding;
}

const QUEUE_TYPE_KEY = 'x-queue-type';

function readExchange(reader: FieldReader): ExchangeBinding {
  const type = reader.oneOf('type', ['topic', 'direct', 'fanout', 'default', 'headers'] as const) ?? 'topic';
  return {
    // `type: default` is the broker's default exchange, whatever the name says.
    name: type === 'default' ? '' : reader.string('name'),
    type: type === 'default' ? 'direct' : type,
    durable: reader.boolean('durable') ?? true,
    autoDelete: reader.boolean('autoDelete') ?? false,
    vhost: reader.string('vhost'),
  };
}

function readQueue(reader: FieldReader): QueueBinding {
  return {
    name: reader.string('name'),
    durable: reader.boolean('durable') ?? true,
    exclusive: reader.boolean('exclusive') ?? false,
    autoDelete: reader.boolean('autoDelete') ?? false,
    vhost: reader.string('vhost'),
  };
}

export function readOperationBinding(bindings: Bindings, origin: Origin): OperationBinding {
  const reader = readerOf(bindings, origin);
  if (!reader) return {};
  return {
    expiration: reader.integer('expiration', 0, 2 ** 31 - 1),
    userId: reader.string('userId'),
    cc: reader.strings('cc'),
    bcc: reader.strings('bcc'),
    priority: reader.integer('priority', 0, 255),
    deliveryMode: reader.oneOf('deliveryMode', [1, 2] as const),
    mandatory: reader.boolean('mandatory'),
    replyTo: reader.string('replyTo'),
    timestamp: reader.boolean('timestamp'),
    ack: reader.boolean('ack'),
  };
}

export function readMessageBinding(bindings: Bindings, origin: Origin): MessageBinding {
  const reader = readerOf(bindings, origin);
  if (!reader) return {};
  return { contentEncoding: reader.string('contentEncoding'), messageType: reader.string('messageType') };
}

