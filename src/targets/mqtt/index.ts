import { targetFiles, type Generator } from '../../generators/contract.js';
import { buildMqttView } from './view.js';

/**
 * The MQTT target: a typed client over MQTT.js (`mqtt`), MQTT 5 or 3.1.1. Writes `mqtt/client.ts` (one
 * method per operation) and `mqtt/index.ts`; the MQTT run-time it uses is copied from `runtime/mqtt/`
 * (transport, connection, publisher, consumer, replies, topology, message).
 */
export const mqttTarget: Generator = {
  name: 'mqtt',
  generate(context) {
    return targetFiles(context, 'mqtt', buildMqttView(context.model, context.view));
  },
};
