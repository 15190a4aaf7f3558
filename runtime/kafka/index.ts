// The Kafka run-time's public surface on kafkajs, exported next to the document's typed client.
export {
  ADDRESS_HEADER,
  KAFKA_HEADER_MAPPING,
  type KafkaConsumerOptions,
  type KafkaEventContext,
  type KafkaHandler,
  type KafkaProducerOptions,
  type KafkaPublishOptions,
  type KafkaReply,
  type KafkaRequestOptions,
  type KafkaSubscription,
  type PublishedEvent,
  type TopologyReport,
} from './runtime.js';
