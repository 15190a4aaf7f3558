import { usageError } from '../errors.js';
import type { ApiModel, ChannelModel, MessageModel } from '../model/types.js';
import type { DiffSide } from './engine.js';

export type SubjectStrategy = 'topic' | 'record' | 'topic-record';

export interface RegistryTarget {
  /** Base URL of the Confluent-compatible API. */
  url: string;
  subjectStrategy?: SubjectStrategy;
}

/**
 * The "old" side of `codegen diff --against-registry`: the new document with each Avro payload
 * replaced by the latest version registered under its subject, so the existing Avro rules judge
 * what the registry would. A subject the registry does not know yet keeps the document's schema
 * (nothing to compare: the first registration is always accepted). A Protobuf payload is replaced by
 * the registered `.proto` text the same way: codegen does not compare Protobuf schemas, so a
 * difference is reported for review (MESSAGE_PAYLOAD_NOT_COMPARED), never judged compatible.
 */
export async function registrySide(next: DiffSide, target: RegistryTarget): Promise<{ side: DiffSide; compared: string[] }> {
  const compared: string[] = [];
  const messages = await Promise.all(
    next.model.messages.map(async (message): Promise<MessageModel> => {
      if (message.avroSchema === undefined && message.protobufSchema === undefined) return message;
      const subject = subjectOf(message, next.model, target.subjectStrategy ?? 'topic');
      if (subject === undefined) return message;
      const latest = await latestSchema(target.url, subject);
      if (latest === undefined) return message;
      compared.push(`${subject} v${latest.version}`);
      // An Avro schema is JSON text; a Protobuf schema is the .proto text itself.
      return { ...message, payloadRaw: message.avroSchema === undefined ? latest.schema : (JSON.parse(latest.schema) as unknown) };
    }),
  );
  return { side: { ...next, model: { ...next.model, messages } }, compared };
}

/** The subject of a message on the (first) channel that carries it: topic = Kafka binding topic, else the address. */
function subjectOf(message: MessageModel, model: ApiModel, strategy: SubjectStrategy): string | undefined {
  const record = message.avroSchema === undefined ? protobufMessageName(message.protobufSchema!) : recordName(message.avroSchema);
  if (strategy === 'record') return record;
  const channel = model.channels.find((c) => c.messageIds.includes(message.id));
  const topic = channel ? topicOf(channel) : undefined;
  if (topic === undefined) return undefined;
  return strategy === 'topic' || record === undefined ? `${topic}-value` : `${topic}-${record}`;
}

function topicOf(channel: ChannelModel): string | undefined {
  const binding = channel.bindings.kafka as { topic?: unknown } | undefined;
  if (typeof binding?.topic === 'string') return binding.topic;
  return channel.address ?? undefined;
}

function recordName(schema: string): string | undefined {
  const parsed = JSON.parse(schema) as { type?: unknown; name?: unknown; namespace?: unknown };
  if (typeof parsed.name !== 'string') return undefined;
  return parsed.name.includes('.') || typeof parsed.namespace !== 'string' ? parsed.name : `${parsed.namespace}.${parsed.name}`;
}

/** A Protobuf payload's full message name (`shop.v1.OrderPlaced`), its subject's record name. */
function protobufMessageName(schema: string): string {
  return (JSON.parse(schema) as { descriptor: { message: string } }).descriptor.message.replace(/^\./, '');
}

async function latestSchema(url: string, subject: string): Promise<{ version: number; schema: string } | undefined> {
  const address = `${url.replace(/\/+$/, '')}/subjects/${encodeURIComponent(subject)}/versions/latest`;
  let response: Response;
  try {
    response = await fetch(address, { headers: { accept: 'application/vnd.schemaregistry.v1+json' }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw usageError('E_REGISTRY_UNREACHABLE', `the schema registry at ${url} cannot be reached: ${(error as Error).message}`);
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw usageError('E_REGISTRY_FAILED', `the schema registry answered ${response.status} for subject ${subject}: ${(await response.text()).slice(0, 200)}`);
  const body = (await response.json()) as { version: number; schema: string };
  return { version: body.version, schema: body.schema };
}
