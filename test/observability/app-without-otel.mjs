// Run by without-api test in a folder outside the project whose node_modules holds only the broker
// clients: @opentelemetry/api cannot be resolved there. Uses the generated clients of the three
// brokers (retry, dead-letter, request/reply) and prints what happened as JSON on stdout.
//
//   node app-without-otel.mjs <rabbitmq prefix> <kafka prefix> <nats prefix>
const [rabbitPrefix, kafkaPrefix, natsPrefix] = process.argv.slice(2);
const TRACEPARENT = `00-${'a1'.repeat(16)}-${'b2'.repeat(8)}-01`;
const RETRY = { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100, multiplier: 2, jitter: 0 };

const result = { openTelemetryResolvable: true, brokers: {} };
try {
  await import('@opentelemetry/api');
} catch (error) {
  result.openTelemetryResolvable = false;
  result.resolveError = error.code;
}
const generated = await import('./generated/index.js');

function memoryLogger() {
  const lines = [];
  const at = (level) => (fields, message) => lines.push({ level, message, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function order(customerId) {
  return { orderId: crypto.randomUUID(), customerId, placedAt: '2026-11-26T08:00:00Z', currency: 'EUR', total: 1, items: [{ sku: 'S', quantity: 1, unitPrice: 1 }] };
}

async function waitFor(condition, what) {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A flaky and a doomed event with a caller-given traceparent, then a request and its reply. */
async function scenario(name, client, lines, { subscribe, publish, respond, request }) {
  const handled = [];
  await subscribe(async (payload, attempt) => {
    if (payload.customerId === 'flaky' && attempt === 1) throw new Error('not yet');
    if (payload.customerId === 'doomed') throw new Error('never');
    handled.push(payload.customerId);
  });
  const flaky = await publish(order('flaky'), { traceparent: TRACEPARENT });
  const doomed = await publish(order('doomed'), { traceparent: TRACEPARENT });
  await waitFor(() => handled.includes('flaky') && lines.some((l) => l.message === 'event dead-lettered' && l.fields.eventId === doomed.id), `${name}: the events`);
  await respond(async (payload) => ({ orderId: payload.orderId, approved: true }));
  const reply = await request({ orderId: crypto.randomUUID(), amount: 1, currency: 'EUR' }, { traceparent: TRACEPARENT, timeoutMs: 30_000 });
  await client.close();
  const pick = (message, id) => lines.find((l) => l.message === message && l.fields.eventId === id)?.fields;
  result.brokers[name] = {
    handled,
    retryLog: pick('handler failed; retrying', flaky.id),
    deadLetterLog: pick('event dead-lettered', doomed.id),
    approved: reply.payload.approved,
    replyTraceparent: reply.envelope?.traceparent,
  };
}

{
  const { logger, lines } = memoryLogger();
  const client = await generated.rabbitmq.createClient({ urls: ['amqp://guest:guest@127.0.0.1:5672'], namePrefix: rabbitPrefix, serviceName: 'no-otel', logger });
  await scenario('rabbitmq', client, lines, {
    subscribe: (handler) => client.onOrderCreated((payload, context) => handler(payload, context.attempt), { retry: RETRY }),
    publish: (payload, options) => client.publishOrderCreated(payload, { ...options, parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
    respond: (handler) => client.onHandlePaymentAuthorization((payload) => handler(payload)),
    request: (payload, options) => client.requestAuthorizePayment(payload, options),
  });
}
{
  const { logger, lines } = memoryLogger();
  const client = generated.kafka.createClient({ brokers: ['127.0.0.1:9092'], topicPrefix: kafkaPrefix, clientId: `${kafkaPrefix}no-otel`, logger });
  await client.declareTopology();
  await scenario('kafka', client, lines, {
    subscribe: (handler) => client.onOrderCreated((payload, context) => handler(payload, context.attempt), { groupId: `${kafkaPrefix}orders`, fromBeginning: true, retry: RETRY }),
    publish: (payload, options) => client.publishOrderCreated(payload, { ...options, key: 'k', parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
    respond: (handler) => client.onHandlePaymentAuthorization((payload) => handler(payload), { groupId: `${kafkaPrefix}payments`, fromBeginning: true }),
    request: (payload, options) => client.requestAuthorizePayment(payload, options),
  });
}
{
  const { logger, lines } = memoryLogger();
  const client = await generated.nats.createClient({ servers: ['127.0.0.1:4222'], subjectPrefix: natsPrefix, logger });
  await scenario('nats', client, lines, {
    subscribe: (handler) => client.onOrderCreated((payload, context) => handler(payload, context.attempt), { durable: 'no-otel', retry: RETRY }),
    publish: (payload, options) => client.publishOrderCreated(payload, { ...options, parameters: { region: 'eu' }, headers: { 'x-tenant': 'acme' } }),
    respond: (handler) => client.onHandlePaymentAuthorization((payload) => handler(payload)),
    request: (payload, options) => client.requestAuthorizePayment(payload, options),
  });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
