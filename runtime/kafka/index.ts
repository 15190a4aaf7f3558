// The Kafka run-time's public surface on kafkajs, exported next to the document's typed client.
export { ADDRESS_HEADER, KAFKA_HEADER_MAPPING } from './message.js';
export type {
  KafkaConsumerOptions,
  KafkaEventContext,
  KafkaHandler,
  KafkaProducerOptions,
  KafkaPublishOptions,
  KafkaReply,
  KafkaRequestOptions,
  KafkaSubscription,
  PublishedEvent,
  TopologyReport,
} from './options.js';
