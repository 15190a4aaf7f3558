// Topics: the name of each channel's topic (prefix, `topics` option, addresses with parameters), and
// declaring the document's topics with the partitions, replicas and configuration of its bindings.
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Logger } from '../logger.js';
import { segment } from '../operation.js';
import { sleep } from '../retry.js';
import { isRetriable } from './connection.js';
import { ADDRESS_HEADER } from './message.js';
import type { KafkaChannel, KafkaOperation, KafkaReplySpec, KafkaTopologyOptions, TopologyReport } from './options.js';

/** How the client's options name topics: a prefix for every topic, and a topic per channel instead of the document's. */
export class TopicNames {
  constructor(
    readonly prefix: string,
    private readonly overrides: Readonly<Record<string, string | undefined>>,
  ) {}

  /** The topic of a channel: the `topics` option, else the document's, with the prefix. */
  fixed(channel: KafkaChannel): string | undefined {
    const override = this.overrides[channel.name];
    if (override !== undefined) return override;
    return channel.topic === undefined ? undefined : this.prefix + channel.topic;
  }

  /** The topic of one event: the channel's, else (a topic built from the address) its address with the prefix. */
  of(channel: KafkaChannel, address: string | undefined): string {
    const fixed = this.fixed(channel);
    if (fixed !== undefined) return fixed;
    if (channel.fromAddress && address !== undefined) return this.prefix + address;
    throw noTopic(channel);
  }

  /** The topic for traces: the fixed topic, or the address template of a topic built from parameters. */
  destinationName(channel: KafkaChannel): string {
    return this.fixed(channel) ?? `${this.prefix}${channel.name}`;
  }

  /** What a consumer subscribes to: the channel's topic, the topic of each parameter set, or every topic of the address. */
  subscribed<T, H, P>(
    operation: KafkaOperation<T, H, P>,
    parameters: readonly P[] | undefined,
  ): Array<string | RegExp> {
    const fixed = this.fixed(operation.channel);
    if (fixed !== undefined) return [fixed];
    const { spec } = operation;
    if (!operation.channel.fromAddress || spec.address === null) throw noTopic(operation.channel);
    return parameters?.length
      ? parameters.map((p) => this.prefix + spec.buildAddress(p))
      : [addressPattern(spec.address, this.prefix)];
  }

  /** Reads the channel address of a received record (for its parameters): from its topic, else from its address header. */
  addressReader(channel: KafkaChannel): (topic: string, headers: Record<string, string>) => string | undefined {
    const fixed = this.fixed(channel);
    const prefix = this.prefix;
    return (topic, headers) => {
      if (!channel.hasParameters) return undefined;
      if (fixed === undefined && topic.startsWith(prefix)) return topic.slice(prefix.length);
      return headers[ADDRESS_HEADER];
    };
  }

  /** Whether an event's address must travel in a header: it has parameters its topic does not show. */
  carriesAddress(channel: KafkaChannel): boolean {
    return !(channel.fromAddress && this.fixed(channel) === undefined);
  }

  /** The reply topic the document gives: the reply channel's, or its address filled from the request's parameters. */
  documentReplyTopic(reply: KafkaReplySpec<unknown>, parameters: unknown): string | undefined {
    if (reply.topic !== undefined) return this.prefix + reply.topic;
    if (reply.address !== undefined && parameters !== undefined)
      return this.prefix + fillAddress(reply.address, parameters);
    return undefined;
  }
}

function noTopic(channel: KafkaChannel): TypeError {
  return new TypeError(
    `kafka client: channel ${channel.name} has no topic in the document; give one with the \`topics\` option`,
  );
}

/** An address template with parameter values placed in it (each checked like a channel parameter). */
export function fillAddress(template: string, parameters: unknown): string {
  const values = (parameters ?? {}) as Record<string, unknown>;
  return template.replace(/\{([^{}]+)\}/g, (_match, name: string) =>
    segment(Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined, name),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A pattern matching every concrete topic of an address template (one segment per parameter). */
export function addressPattern(address: string, prefix: string): RegExp {
  const source = address
    .split(/(\{[^{}]+\})/)
    .map((part) => (/^\{[^{}]+\}$/.test(part) ? '([A-Za-z0-9_-]+)' : escapeRegExp(part)))
    .join('');
  return new RegExp(`^${escapeRegExp(prefix)}${source}$`);
}

/** What declareTopology() creates besides the channels' topics. */
export interface DeclareOptions {
  /** Dead-letter topics of the consumers (default true). */
  deadLetter: boolean;
  /** The consumers' `deadLetterTopic` option. */
  deadLetterTopic: string | false | undefined;
  /** The client's one reply topic, when it has one. */
  replyTopic: string | undefined;
  /** Replication over the document's (the client's `topology` option and declareTopology()'s). */
  topology: KafkaTopologyOptions;
}

/**
 * The document's topics (partitions, replicas and topic configuration from the bindings), the
 * dead-letter topics of its consumers and the reply topics of its requests.
 */
export function documentTopics(
  operations: ReadonlyArray<KafkaOperation<unknown, unknown, unknown>>,
  names: TopicNames,
  options: DeclareOptions,
): ITopicConfig[] {
  const wanted = new Map<string, ITopicConfig>();
  const add = (topic: string, channel: KafkaChannel) => {
    if (wanted.has(topic)) return;
    wanted.set(
      topic,
      withReplication(
        {
          topic,
          numPartitions: channel.partitions ?? -1,
          replicationFactor: channel.replicas ?? -1,
          configEntries: [...channel.configEntries],
        },
        options.topology,
      ),
    );
  };
  for (const operation of operations) {
    const channel = operation.channel;
    const fixed = names.fixed(channel);
    const topics =
      fixed !== undefined ? [fixed] : channel.fromAddress ? channel.enumeratedTopics.map((t) => names.prefix + t) : [];
    for (const topic of topics) {
      add(topic, channel);
      if (operation.spec.action === 'receive' && options.deadLetter) {
        const dlq = options.deadLetterTopic;
        if (dlq !== false) add(dlq ?? `${topic}.dlq`, { ...channel, configEntries: [] });
      }
      if (operation.spec.action === 'send' && operation.reply) {
        const reply = operation.reply;
        // A reply address with parameters is only known per request: the listener creates it then.
        const replyTopic =
          options.replyTopic ??
          names.documentReplyTopic(reply, undefined) ??
          (reply.address === undefined ? `${topic}.reply` : undefined);
        if (replyTopic !== undefined) add(replyTopic, { ...channel, configEntries: [] });
      }
    }
  }
  return [...wanted.values()];
}

/** The topology options, refused (TypeError) unless each is a whole number from 1. */
export function checkTopologyOptions(options: KafkaTopologyOptions): KafkaTopologyOptions {
  for (const [name, value] of Object.entries(options))
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1))
      throw new TypeError(`kafka client: \`topology.${name}\` must be a whole number from 1, got ${String(value)}`);
  return options;
}

/**
 * A topic's replication factor and `min.insync.replicas` as the topology options say, over the document's.
 * Refuses a `min.insync.replicas` above the replication factor (every write would fail with NOT_ENOUGH_REPLICAS).
 */
export function withReplication(topic: ITopicConfig, options: KafkaTopologyOptions): ITopicConfig {
  const { replicationFactor, minInsyncReplicas } = checkTopologyOptions(options);
  const replicas = replicationFactor ?? topic.replicationFactor ?? -1;
  let configEntries = topic.configEntries ?? [];
  if (minInsyncReplicas !== undefined)
    configEntries = [
      ...configEntries.filter((entry) => entry.name !== 'min.insync.replicas'),
      { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
    ];
  const minInsync = Number(configEntries.find((entry) => entry.name === 'min.insync.replicas')?.value ?? 1);
  if (replicas > 0 && minInsync > replicas)
    throw new TypeError(
      `kafka client: topic ${topic.topic} would have min.insync.replicas ${minInsync} above its replication factor ${replicas}: no write could succeed; give \`topology.replicationFactor\``,
    );
  return { ...topic, replicationFactor: replicas, configEntries };
}

/** kafkajs reports refused topics as "Topic creation errors"; the reason of each is in `errors`. */
function explainCreateErrors(error: unknown): never {
  const refused = (error as { errors?: unknown }).errors;
  if (!Array.isArray(refused)) throw error;
  const reasons = refused.map(
    (e: { topic?: string; message?: string }) => `${e.topic ?? '?'}: ${e.message ?? String(e)}`,
  );
  throw new Error(`kafka refused to create topics (${reasons.join('; ')})`, { cause: error });
}

const LEADER_WAIT_MS = 30_000;

/**
 * Waits until every partition of the new topics has a leader. On a cluster the broker answering may not
 * know a topic the controller just created ("does not host this topic-partition", which kafkajs' own
 * `waitForLeaders` does not retry): that, like a missing leader, is asked again until `LEADER_WAIT_MS`.
 */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const led = metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (led && metadata.topics.length === topics.length) return;
      if (Date.now() > deadline)
        throw new Error(`kafka topics without a leader after ${LEADER_WAIT_MS} ms: ${topics.join(', ')}`);
    } catch (error) {
      if (!isRetriable(error) || Date.now() > deadline) throw error;
    }
    await sleep(250);
  }
}

/** Creates the topics that do not exist yet; reports the others (a partition count is never changed). */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[], logger: Logger): Promise<TopologyReport> {
  const report: TopologyReport = { created: [], existing: [], mismatched: [] };
  const present = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !present.has(t.topic));
  const existing = topics.filter((t) => present.has(t.topic));
  if (missing.length > 0) {
    const created = await admin.createTopics({ topics: missing, waitForLeaders: false }).catch(explainCreateErrors);
    if (created) {
      await waitForLeaders(
        admin,
        missing.map((t) => t.topic),
      );
      report.created.push(...missing.map((t) => t.topic));
    } else {
      // Someone created some of them meanwhile: the rest exists now too.
      report.existing.push(...missing.map((t) => t.topic));
    }
  }
  if (existing.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existing.map((t) => t.topic) });
    for (const topic of existing) {
      report.existing.push(topic.topic);
      const actual = metadata.topics.find((t) => t.name === topic.topic)?.partitions.length ?? 0;
      const expected = topic.numPartitions ?? -1;
      if (expected > 0 && actual !== expected) {
        report.mismatched.push({ topic: topic.topic, expectedPartitions: expected, actualPartitions: actual });
        logger.warn(
          { topic: topic.topic, expectedPartitions: expected, actualPartitions: actual },
          'kafka topic exists with another partition count (left unchanged)',
        );
      }
    }
  }
  return report;
}
