// The MQTT run-time's public surface, exported next to the document's typed client: the option, context,
// handler and reply types, and the CloudEvents MQTT binding (the header mapping, the structured mode's member).
export { MQTT_HEADER_MAPPING, STRUCTURED_HEADERS } from './message.js';
export type {
  LastWill,
  MqttClientOptions,
  MqttConsumerOptions,
  MqttEventContext,
  MqttHandler,
  MqttOperation,
  MqttOperationKind,
  MqttPublishOptions,
  MqttPublishResult,
  MqttReply,
  MqttReplySpec,
  MqttRequestOptions,
  MqttResponder,
  MqttSubscription,
  MqttVersion,
  QoS,
} from './options.js';
export type { TopicCodec } from './topology.js';
