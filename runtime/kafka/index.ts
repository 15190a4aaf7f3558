// The Kafka run-time's public surface on kafkajs, exported next to the document's typed client.
export type { KafkaDeadLetterOrigin } from './dead-letters.js';
export { ADDRESS_HEADER, KAFKA_HEADER_MAPPING } from './message.js';
export type {
  DeclareTopologyOptions,
  KafkaConsumerOptions,
  KafkaEventContext,
  KafkaHandler,
  KafkaProducerOptions,
  KafkaPublishOptions,
  KafkaReply,
  KafkaRequestOptions,
  KafkaSubscription,
  KafkaTopologyOptions,
  PublishedEvent,
  TopologyReport,
} from './options.js';
