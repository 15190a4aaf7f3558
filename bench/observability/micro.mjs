#!/usr/bin/env node
// CPU cost of the shared runtime/telemetry.ts per event, without a broker: one publish (PRODUCER span
// around an async send) plus one process (CONSUMER span around an async handler, trace context read from
// the envelope) per iteration, called as the brokers call them (gated by `telemetry.active`, attributes
// built lazily), in three settings measured in the same process, alternating:
//
//   off:     telemetry: { enabled: false } (what a client does without @opentelemetry/api installed);
//   api:     @opentelemetry/api installed, no SDK registered (no tracer or meter provider);
//   sdk:     BasicTracerProvider + SimpleSpanProcessor + InMemorySpanExporter, a MeterProvider with an
//            in-memory metric reader, AsyncLocalStorageContextManager.
//
//   node bench/observability/micro.mjs [iterations=100000] [rounds=5]
//
// JS=<folder of compiled generated code> measures another build (default: generate the bundled example
// into .cache/bench-observability and compile it, as throughput.mjs does; SKIP_BUILD=1 reuses it).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildGenerated, WORK } from './build.mjs';

const ITERATIONS = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const js = process.env.JS ? path.resolve(process.env.JS) : process.env.SKIP_BUILD ? path.join(WORK, 'js') : buildGenerated(['kafka']);

const { Telemetry } = await import(pathToFileURL(path.join(js, 'runtime', 'telemetry.js')).href);
const api = await import('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
const { MeterProvider, InMemoryMetricExporter, AggregationTemporality, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');

const off = await Telemetry.create('kafka', { enabled: false });
const on = await Telemetry.create('kafka');
const exporter = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);

function sdk(enable) {
  if (enable) {
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })] }));
  } else {
    api.trace.disable();
    api.metrics.disable();
    api.context.disable();
  }
}

// As the brokers call it: gated by `active`, attributes built lazily.
const NO_TRACE = {};
const send = async (trace) => trace;
const handle = async (span) => span;
const publish = (telemetry, i) =>
  telemetry.active ? telemetry.publish('orders.created', { id: `id-${i}` }, () => ({ 'messaging.kafka.message.key': 'customer-1' }), send) : send(NO_TRACE);
const processOne = (telemetry, i, traceparent) =>
  telemetry.active
    ? telemetry.process('orders.created', { id: `id-${i}`, traceparent }, () => ({ 'messaging.destination.partition.id': '1', 'messaging.kafka.offset': i, 'messaging.consumer.group.name': 'g', 'messaging.kafka.message.key': 'customer-1' }), handle)
    : handle(undefined);

async function run(telemetry) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const trace = await publish(telemetry, i);
    await processOne(telemetry, i, trace.traceparent);
    if (exporter.getFinishedSpans().length > 10_000) exporter.reset();
  }
  const used = process.cpuUsage(cpu);
  return { cpu: ((used.user + used.system) * 1000) / ITERATIONS, wall: ((performance.now() - started) * 1e6) / ITERATIONS };
}

const results = { off: [], api: [], sdk: [] };
for (let round = 0; round <= ROUNDS; round++) {
  // Round 0 warms the JIT and is not counted.
  const off_ = await run(off);
  const api_ = await run(on);
  sdk(true);
  const sdk_ = await run(on);
  sdk(false);
  exporter.reset();
  if (round === 0) continue;
  results.off.push(off_);
  results.api.push(api_);
  results.sdk.push(sdk_);
  console.log(`round ${round}: off ${off_.cpu.toFixed(0)} ns, api (no SDK) ${api_.cpu.toFixed(0)} ns, sdk ${sdk_.cpu.toFixed(0)} ns CPU per publish+process`);
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const line = Object.fromEntries(Object.entries(results).map(([mode, runs]) => [mode, Math.round(median(runs.map((r) => r.cpu)))]));
console.log(JSON.stringify({ bench: 'telemetry-micro', unit: 'ns CPU per publish+process', iterations: ITERATIONS, rounds: ROUNDS, ...line }));
