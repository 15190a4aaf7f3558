// The NATS run-time's public surface (options and event types), exported next to the document's typed client.
export * from './runtime.js';
