// The RabbitMQ (amqplib) run-time's public surface, exported next to the document's typed client.
//
// CloudEvents travel in binary content mode: `datacontenttype` as the AMQP content-type property, every
// other attribute as a `cloudEvents:<name>` header (`cloudEvents_<name>` is read too); the event id is also
// the message-id, its type the AMQP type (unless a `messageType` binding says otherwise). See message.ts.
export type {
  ClientOptions,
  EventHandler,
  MessageContext,
  Published,
  RabbitReply,
  RequestHandler,
  RequestOptions,
  SendOptions,
  SubscribeOptions,
  Subscription,
} from './options.js';
export type { AmqpPublishOptions, CloudEventsPrefix } from './message.js';
export type { ConnectionEvent, ReconnectPolicy } from '../reconnect.js';
export { ConnectionUnavailableError } from '../reconnect.js';
