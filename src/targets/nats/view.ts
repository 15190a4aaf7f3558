import { documentError } from '../../errors.js';
import { commentText, words } from '../../model/names.js';
import type { ApiModel, OperationModel } from '../../model/types.js';
import { operationKindFlags, type OperationKindFlags } from '../../view/operation-kind.js';
import { clientMethod, type ClientMethodView } from '../../view/client-method.js';
import { callWithLastObject, Code, commentAt, declaration, literalNode, objectBody, typedMember } from '../../view/code-layout.js';
import { parseAddress, type AddressPart, type CoreView, type OperationView } from '../../view/core-view.js';

/**
 * What the NATS templates see: the core view plus, per operation, where it lives on NATS
 * (subject filter, subject mapping, queue group, delivery mode, stream and durable consumer names).
 * Every value is a ready-to-place TypeScript literal or expression.
 */
export interface NatsView extends CoreView {
  natsOperations: NatsOperationView[];
  /** `const allOperations: ... = [...];`, for declareTopology(). */
  allOperationsDeclaration: string;
  /** Whether any operation subscribes: the dead-letter queues interface has members. */
  hasDeadLetters: boolean;
  /** `createClient`'s connect statement, with the document's NATS servers (`host:port`) as the client's default. */
  connectStatement: string;
  /** The document's title and version, safe inside a comment. */
  documentComment: string;
}

export interface NatsOperationView extends OperationKindFlags, ClientMethodView {
  operation: OperationView;
  /** Name of the constant holding the operation's NATS description in the generated client. */
  constName: string;
  /** Name of the constant holding the reply description (request and respond only). */
  replyConstName: string;
  /**
   * The properties of the operation's NATS description, laid out: its kind, the subject filter of
   * the channel (parameters as `*`, or `null`), the SubjectCodec that maps the document's address to
   * a NATS subject and back, the queue group of the `nats` operation binding, `'core'` or
   * `'jetstream'` from the binding's `x-delivery` (else the client's default), the base name of the
   * JetStream stream that stores the channel, and the default durable consumer name (from the queue
   * binding, else the operation).
   */
  body: string;
  /** The `deadLetters` interface member of a subscribe operation. */
  deadLettersMember: string;
  /** The operation's comment, indented for the class. */
  comment: string;
  /** Documentation lines placed in comments. */
  subjectComment: string;
}

const DELIVERY_MODES = ['core', 'jetstream'];

export function buildNatsView(model: ApiModel, view: CoreView): NatsView {
  const streamNames = new Map<string, string>();
  const natsOperations = model.operations.map((operation, index) => operationView(operation, view.operations[index]!, streamNames));
  const servers = model.servers.filter((server) => /^nats|^tls$/i.test(server.protocol)).map((server) => server.host);
  const defaults = { servers: [...new Set(servers)], source: new Code(view.sourceLiteral), name: new Code(view.titleLiteral), validate: new Code(view.validateByDefault) };
  return {
    ...view,
    natsOperations,
    allOperationsDeclaration: declaration(
      'const allOperations',
      'Array<NatsOperation<unknown, unknown, unknown>>',
      literalNode(natsOperations.map((operation) => new Code(operation.constName))),
    ),
    hasDeadLetters: natsOperations.some((operation) => operation.isSubscribe),
    connectStatement: callWithLastObject('  ', 'const transport = await NatsTransport.connect', ['options'], literalNode(defaults), ';'),
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
  const constName = `${core.name}Nats`;
  const replyConstName = `${core.name}Reply`;
  const orUndefined = (value: string | undefined) => value ?? new Code('undefined');
  return {
    operation: core,
    ...flags,
    constName,
    replyConstName,
    body: objectBody(
      '  ',
      Object.entries({
        kind: flags.kind,
        wildcard: subject.wildcard,
        subjects: new Code(subject.codec),
        queue: orUndefined(queue),
        delivery: orUndefined(delivery as string | undefined),
        stream: streamNames.get(wildcard)!,
        durable: durableName(queue ?? operation.name),
      }).map(([key, value]) => [key, literalNode(value)]),
    ),
    ...clientMethod('Nats', core, flags, constName, replyConstName),
    deadLettersMember: typedMember('  ', `readonly ${core.methodName}`, `DeadLetters<${core.payloadTypeQualified}, ${core.headersTypeQualified}, NatsDeadLetterOrigin>`),
    comment: commentAt('  ', core.comment),
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
