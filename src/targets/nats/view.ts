import { documentError } from '../../errors.js';
import { commentText, stringLiteral, words } from '../../model/names.js';
import type { ApiModel, OperationModel } from '../../model/types.js';
import { operationKindFlags, type OperationKindFlags } from '../../view/operation-kind.js';
import { parseAddress, type AddressPart, type CoreView, type OperationView } from '../../view/core-view.js';

/**
 * What the NATS templates see: the core view plus, per operation, where it lives on NATS
 * (subject filter, subject mapping, queue group, delivery mode, stream and durable consumer names).
 * Every value is a ready-to-place TypeScript literal or expression.
 */
export interface NatsView extends CoreView {
  natsOperations: NatsOperationView[];
  /** Array literal of the document's NATS servers (`host:port`), the client's default. */
  defaultServersLiteral: string;
  /** The document's title and version, safe inside a comment. */
  documentComment: string;
}

export interface NatsOperationView extends OperationKindFlags {
  operation: OperationView;
  /** Name of the constant holding the operation's NATS description in the generated client. */
  constName: string;
  /** Name of the constant holding the reply description (request and respond only). */
  replyConstName: string;
  /** String literal: the subject filter of the channel, parameters as `*` (or `null`). */
  wildcardLiteral: string;
  /** Expression of the SubjectCodec that maps the document's address to a NATS subject and back. */
  subjectCodecExpression: string;
  /** String literal of the queue group from the `nats` operation binding, or `undefined`. */
  queueLiteral: string;
  /** `'core'` / `'jetstream'` from the binding's `x-delivery`, or `undefined` (the client's default). */
  deliveryLiteral: string;
  /** String literal: base name of the JetStream stream that stores the channel. */
  streamLiteral: string;
  /** String literal: default durable consumer name (from the queue binding, else the operation). */
  durableLiteral: string;
  /** Documentation lines placed in comments. */
  subjectComment: string;
}

const DELIVERY_MODES = ['core', 'jetstream'];

export function buildNatsView(model: ApiModel, view: CoreView): NatsView {
  const streamNames = new Map<string, string>();
  const natsOperations = model.operations.map((operation, index) => operationView(operation, view.operations[index]!, streamNames));
  const servers = model.servers.filter((server) => /^nats|^tls$/i.test(server.protocol)).map((server) => server.host);
  return {
    ...view,
    natsOperations,
    defaultServersLiteral: `[${[...new Set(servers)].map((host) => stringLiteral(host)).join(', ')}]`,
    documentComment: commentText(`"${view.title}" ${model.info.version}`),
  };
}

function operationView(operation: OperationModel, core: OperationView, streamNames: Map<string, string>): NatsOperationView {
  const binding = operation.bindings.nats ?? {};
  const flags = operationKindFlags(operation);
  const queue = typeof binding.queue === 'string' && binding.queue !== '' ? binding.queue : undefined;
  const delivery = binding['x-delivery'];
  if (delivery !== undefined && (typeof delivery !== 'string' || !DELIVERY_MODES.includes(delivery))) {
    throw documentError('E_NATS_DELIVERY', `the nats binding's x-delivery of operation "${operation.id}" must be "core" or "jetstream"`, {
      file: operation.origin.file,
      pointer: `${operation.origin.pointer}/bindings/nats/x-delivery`,
    });
  }
  const subject = subjectOf(core.channel.addressParts, core.channel.addressLiteral === 'null');
  // Channels with the same subject filter share one stream, named after the first of them.
  const wildcard = subject.wildcard ?? `~${core.channel.name}`;
  if (!streamNames.has(wildcard)) streamNames.set(wildcard, uniqueStreamName(words(core.channel.name).join('_').toUpperCase() || 'EVENTS', streamNames));
  return {
    operation: core,
    ...flags,
    constName: `${core.name}Nats`,
    replyConstName: `${core.name}Reply`,
    wildcardLiteral: subject.wildcard === null ? 'null' : stringLiteral(subject.wildcard),
    subjectCodecExpression: subject.codec,
    queueLiteral: queue === undefined ? 'undefined' : stringLiteral(queue),
    deliveryLiteral: delivery === undefined ? 'undefined' : stringLiteral(delivery as string),
    streamLiteral: stringLiteral(streamNames.get(wildcard)!),
    durableLiteral: stringLiteral(durableName(queue ?? operation.name)),
    subjectComment: subject.wildcard === null ? 'no subject in the document (pass `subject`)' : commentText(`subject \`${subject.wildcard}\``),
  };
}

/**
 * The NATS form of a channel address. Tokens are separated by `.`; a parameter becomes one token,
 * and `*` in the subject filter. MQTT-style addresses (`a/{b}/c`, with no `.` in their literal text)
 * map `/` to `.` (leading and trailing `/` dropped), so their parameters become tokens too; the
 * mapping is reversed on receipt. Any other address is used as written.
 */
function subjectOf(parts: AddressPart[], isNull: boolean): { wildcard: string | null; codec: string } {
  if (isNull) return { wildcard: null, codec: 'dotSubjects' };
  // Parameters stand as NUL here (they cannot hold one) so that tokens can be told apart.
  const address = parts.map((p) => (p.kind === 'literal' ? p.text : '\u0000')).join('');
  const slashes = address.includes('/') && !address.includes('.') && !address.includes('//') && address !== '/';
  const leading = slashes && address.startsWith('/');
  const trailing = slashes && address.endsWith('/');
  const natsForm = slashes ? address.replace(/^\//, '').replace(/\/$/, '').replace(/\//g, '.') : address;
  // A token that holds a parameter (whole or in part) becomes `*`; the exact match is checked on receipt.
  const wildcard = natsForm
    .split('.')
    .map((token) => (token.includes('\u0000') ? '*' : token))
    .join('.');
  return { wildcard, codec: slashes ? `slashSubjects(${leading}, ${trailing})` : 'dotSubjects' };
}

function uniqueStreamName(base: string, taken: Map<string, string>): string {
  const used = new Set(taken.values());
  let name = base;
  for (let counter = 2; used.has(name); counter++) name = `${base}_${counter}`;
  return name;
}

/** A durable consumer name: letters, digits, `-` and `_` only. */
function durableName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 200);
  return name === '' || /^_+$/.test(name) ? 'consumer' : name;
}
