// The NATS run-time's public surface, exported next to the document's typed client: the option, context,
// handler and reply types, and the CloudEvents NATS binding (header mapping, percent-encoding).
export {
  decodeHeaderValue,
  encodeHeaderValue,
  fromNatsHeaders,
  NATS_HEADER_MAPPING,
  toNatsHeaders,
  type SubjectCodec,
} from './message.js';
export type {
  DeliveryMode,
  NatsClientOptions,
  NatsConsumerOptions,
  NatsEventContext,
  NatsHandler,
  NatsOperation,
  NatsOperationKind,
  NatsPublishOptions,
  NatsPublishResult,
  NatsReply,
  NatsReplySpec,
  NatsRequestOptions,
  NatsResponder,
  NatsSubscription,
} from './options.js';
