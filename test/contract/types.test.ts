/**
 * The contract at the type level: for every operation on every broker, the options type requires
 * exactly what the document requires, and the brokers agree. Snippets written next to the generated
 * code of fixtures/contract/asyncapi.yaml call the clients as an application would; a call that must
 * not compile carries `// @ts-expect-error` (tsc reports the directive when the call compiles), a call
 * that must compile carries nothing. All snippets and the generated code are one `tsc --strict`
 * program; each test reads the diagnostics of its own snippet.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, generateTo } from '../helpers/codegen.js';
import { BROKER_NAMES, CAPABILITIES, type BrokerName } from './capabilities.js';
import { CONTRACT_DOCUMENT } from './brokers.js';

type Target = 'rabbitmq' | 'kafka' | 'nats';
const TARGETS: Target[] = ['rabbitmq', 'kafka', 'nats'];
/** Whether a target's bindings can demand a key (read from the same capability data as the broker tests). */
const hasKeys = (target: Target) => BROKER_NAMES.some((name: BrokerName) => CAPABILITIES[name].target === target && CAPABILITIES[name].keys);

/** What every snippet starts with: the target's client type and valid values of each option. */
function prelude(target: Target): string {
  return [
    `import { ${target} } from '../index.js';`,
    `declare const client: Awaited<ReturnType<typeof ${target}.createClient>>;`,
    `const reading = { sensor: 's-1', value: 1 };`,
    `const headers = { 'x-tenant': 'acme' };`,
    `const parameters = { siteId: 'ams' as const };`,
    '',
  ].join('\n');
}

/** The key a `readings` publish gives where the target has keys (spread into each call). */
const key = (target: Target) => (hasKeys(target) ? ', key: "s-1"' : '');

interface Check {
  name: string;
  /** Only for targets with keys (true) or without (false). */
  keys?: boolean;
  body(target: Target): string;
}

const CHECKS: Check[] = [
  {
    name: 'headers are required when the header schema requires a property',
    body: (t) => `
// @ts-expect-error x-tenant is required, so headers are
void client.publishReading(reading, { parameters${key(t)} });
// @ts-expect-error the headers given lack the required x-tenant
void client.publishReading(reading, { parameters, headers: { 'x-priority': 1 }${key(t)} });
// @ts-expect-error x-priority is an integer, not text
void client.publishReading(reading, { parameters, headers: { 'x-tenant': 'acme', 'x-priority': 'high' }${key(t)} });
void client.publishReading(reading, { parameters, headers${key(t)} });
void client.publishReading(reading, { parameters, headers: { 'x-tenant': 'acme', 'x-priority': 3 }${key(t)} });
`,
  },
  {
    name: 'parameters are required when the channel has parameters, and typed',
    body: (t) => `
// @ts-expect-error the channel has a parameter
void client.publishReading(reading, { headers${key(t)} });
// @ts-expect-error siteId is one of ams, fra, lon
void client.publishReading(reading, { headers, parameters: { siteId: 'mars' }${key(t)} });
// @ts-expect-error siteId is required in parameters
void client.publishReading(reading, { headers, parameters: {}${key(t)} });
void client.publishReading(reading, { headers, parameters: { siteId: 'lon' }${key(t)} });
`,
  },
  {
    name: 'a publish with required options cannot leave out the options argument; the payload is typed',
    body: (t) => `
// @ts-expect-error headers and parameters are required
void client.publishReading(reading);
// @ts-expect-error value is a number
void client.publishReading({ sensor: 's-1', value: 'high' }, { headers, parameters${key(t)} });
`,
  },
  {
    name: 'nothing is required where the document requires nothing (no parameters, no required header, no key)',
    body: () => `
void client.publishNote({ text: 'hello' });
void client.publishNote({ text: 'hello' }, {});
void client.publishNote({ text: 'hello' }, { headers: { 'x-tag': 'a' } });
void client.requestQuote({ item: 'widget', quantity: 1 });
void client.requestQuote({ item: 'widget', quantity: 1 }, { timeoutMs: 1000 });
// @ts-expect-error the channel has no parameters
void client.publishNote({ text: 'hello' }, { parameters: { siteId: 'ams' } });
`,
  },
  {
    name: 'a key is required where the Kafka binding demands one, and typed',
    keys: true,
    body: () => `
// @ts-expect-error the message binding demands a key
void client.publishReading(reading, { headers, parameters });
// @ts-expect-error the key is a string
void client.publishReading(reading, { headers, parameters, key: 42 });
void client.publishReading(reading, { headers, parameters, key: 's-1' });
`,
  },
  {
    name: 'no key option where the broker has no keys',
    keys: false,
    body: () => `
// @ts-expect-error only Kafka has keys
void client.publishReading(reading, { headers, parameters, key: 's-1' });
`,
  },
  {
    name: 'the required options are exactly headers and parameters (plus a key where a binding demands one)',
    body: (t) => `
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type ReadingOptions = Parameters<typeof client.publishReading>[1];
type NoteOptions = NonNullable<Parameters<typeof client.publishNote>[1]>;
export const readingRequires: Equal<RequiredKeys<ReadingOptions>, 'headers' | 'parameters'${hasKeys(t) ? " | 'key'" : ''}> = true;
export const noteRequires: Equal<RequiredKeys<NoteOptions>, never> = true;
`,
  },
];

/** One snippet file per target and check, named so a diagnostic says which. */
function snippetFile(target: Target, index: number): string {
  return `${target}-check-${index + 1}.ts`;
}

function appliesTo(check: Check, target: Target): boolean {
  return check.keys === undefined || check.keys === hasKeys(target);
}

/** The three targets' options types side by side: the same options are required (a demanded key aside). */
const AGREEMENT = `${TARGETS.map((t) => `import { ${t} } from '../index.js';`).join('\n')}
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
${TARGETS.map((t) => `type ${t}Reading = Exclude<RequiredKeys<Parameters<Awaited<ReturnType<typeof ${t}.createClient>>['publishReading']>[1]>, 'key'>;`).join('\n')}
${TARGETS.map((t) => `type ${t}Note = RequiredKeys<NonNullable<Parameters<Awaited<ReturnType<typeof ${t}.createClient>>['publishNote']>[1]>>;`).join('\n')}
export const readingsAgree: [Equal<rabbitmqReading, kafkaReading>, Equal<kafkaReading, natsReading>] = [true, true];
export const notesAgree: [Equal<rabbitmqNote, kafkaNote>, Equal<kafkaNote, natsNote>] = [true, true];
`;

let diagnostics = '';
let checksFolder = '';

beforeAll(async () => {
  const out = await generateTo(CONTRACT_DOCUMENT, TARGETS);
  checksFolder = path.join(out, 'type-checks');
  mkdirSync(checksFolder);
  for (const target of TARGETS) {
    CHECKS.forEach((check, index) => {
      if (!appliesTo(check, target)) return;
      writeFileSync(path.join(checksFolder, snippetFile(target, index)), `${prelude(target)}// ${check.name}\n${check.body(target)}`);
    });
  }
  writeFileSync(path.join(checksFolder, 'agreement.ts'), AGREEMENT);
  writeFileSync(path.join(checksFolder, 'canary.ts'), `export const notANumber: number = 'text';\n`);
  try {
    await compileStrict([out]);
  } catch (error) {
    diagnostics = (error as Error).message;
  }
});

/** The tsc diagnostics of one snippet (none when it type-checks as expected). */
function diagnosticsOf(file: string): string[] {
  return diagnostics.split('\n').filter((line) => line.includes(`type-checks/${file}(`));
}

it('the snippets are part of the program (a snippet that cannot compile is reported)', () => {
  expect(diagnosticsOf('canary.ts')).toEqual([expect.stringContaining('error TS2322')]);
});

describe.each(TARGETS)('%s: the options types require what the document requires', (target) => {
  it('the generated code itself compiles under --strict (no diagnostic outside the snippets)', () => {
    if (diagnostics !== '') expect(diagnostics).toMatch(/error TS/);
    const outside = diagnostics.split('\n').filter((line) => /error TS/.test(line) && !line.includes('type-checks/'));
    expect(outside).toEqual([]);
  });

  const checks = CHECKS.map((check, index) => ({ ...check, index })).filter((check) => appliesTo(check, target));
  for (const { name, index } of checks) {
    it(name, () => {
      expect(diagnosticsOf(snippetFile(target, index))).toEqual([]);
    });
  }
});

it('the three brokers require the same options of the same operation (a demanded key aside)', () => {
  expect(diagnosticsOf('agreement.ts')).toEqual([]);
});
