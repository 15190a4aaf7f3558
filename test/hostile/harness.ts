import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Cache } from '../../src/cache/cache.js';
import { CodegenError, type Diagnostic } from '../../src/errors.js';
import type { GeneratedFile } from '../../src/generators/contract.js';
import type { ApiModel } from '../../src/model/types.js';
import { generateFiles } from '../../src/pipeline/generate.js';
import { buildCoreView } from '../../src/view/core-view.js';
import { ROOT } from '../helpers/codegen.js';
import type { Expectations, HostileDocument } from './documents.js';
import { INVISIBLE, LONE_SURROGATE, inside, isCompilerDirective, occurrences, safeRegions, scanTypeScript, splitHeader } from './scan.js';
import { CANARY } from './strings.js';

/**
 * Runs hostile documents through the generator and checks the output (see generator-v3.test.ts):
 * generation in process (generateFiles), the scan of every file, and one compiler run over the
 * outputs of many documents.
 */

const execFileAsync = promisify(execFile);

export const TARGETS = ['kafka', 'nats', 'rabbitmq', 'mqtt'] as const;

/** What went wrong, by property, so each property is its own test. */
export type ProblemKind = 'generation' | 'names' | 'scan' | 'invisible' | 'invisible-tools' | 'compile' | 'fidelity';

/**
 * Files written by other tools (json-schema-to-typescript, ajv) rather than by templates from the
 * view: their invisible characters are a separate property, escaped by a pass over their output.
 */
const TOOL_OUTPUT = /^(?:types\.ts|validators\/[^/]+\.compiled\.ts)$/;

export interface Problem {
  kind: ProblemKind;
  message: string;
}

/** Formatting is content-addressed: a shared in-memory cache formats each static run-time file once. */
export function memoryCache(): Cache {
  const entries = new Map<string, string>();
  return {
    get: (kind, key) => (kind === 'run' ? undefined : entries.get(`${kind}:${key}`)),
    set: (kind, key, value) => void (kind === 'run' ? undefined : entries.set(`${kind}:${key}`, value)),
  };
}

/** What the generator produced from a benign document (the bundled example). */
export interface Reference {
  dir: string;
  /** Body (code after the header comment) of every TypeScript file, by path. */
  files: Map<string, string>;
  /** Text of the reference output outside literals and comments: the generator's own vocabulary. */
  codeText: string;
  /** Comments the generator writes itself. */
  comments: Set<string>;
  /** Names the generated code exports (hostile documents reuse them as names). */
  exportedNames: string[];
}

export interface DocumentResult {
  index: number;
  doc: HostileDocument;
  /** The document file, relative to the project (kept for replay). */
  file: string;
  /** Folder of the generated output, when generation succeeded. */
  out?: string;
  problems: Problem[];
  /** Files that differ from the reference: compiled from this folder. */
  ownFiles: string[];
  expect: Expectations;
  /** Warnings and notes of a successful generation. */
  diagnostics: Diagnostic[];
}

async function generate(document: string, targets: readonly string[], cache: Cache) {
  return generateFiles({ document, targets: [...targets], cache, load: { cwd: path.dirname(document) } });
}

export async function buildReference(dir: string, cache: Cache): Promise<Reference> {
  const result = await generate(path.join(ROOT, 'fixtures/example/asyncapi.yaml'), TARGETS, cache);
  const files = new Map<string, string>();
  const out = path.join(dir, 'reference');
  let codeText = '';
  const comments = new Set<string>();
  const exportedNames = new Set<string>();
  for (const file of result.files) {
    writeOut(out, file);
    if (!file.path.endsWith('.ts')) continue;
    files.set(file.path, splitHeader(file.content).body);
    const scanned = scanTypeScript(file.path, file.content);
    let last = 0;
    for (const region of safeRegions(scanned)) {
      codeText += file.content.slice(last, region.start) + '\n';
      last = region.end;
    }
    codeText += file.content.slice(last) + '\n';
    for (const comment of scanned.comments) comments.add(comment.text);
    for (const match of file.content.matchAll(/^export (?:declare )?(?:async )?(?:function\*?|const|let|class|interface|type|enum|abstract class) ([A-Za-z_$][\w$]*)/gm)) exportedNames.add(match[1]!);
  }
  return { dir: out, files, codeText, comments, exportedNames: [...exportedNames].sort() };
}

function writeOut(out: string, file: GeneratedFile): void {
  const target = path.join(out, file.path);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, file.content);
}

/** Relative module specifiers a file imports or re-exports. */
function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Generated paths are the generator's: never derived from the document, never leaving the folder. */
const SAFE_PATH = /^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)*$/i;

/** Whether an address of the document holds `+` or `#` outside its `{parameter}` placeholders. */
function holdsMqttWildcard(doc: HostileDocument): boolean {
  return doc.expect.operations.some((operation) => operation.address !== null && /[+#]/.test(operation.address.replace(/\{[^{}]+\}/g, '')));
}

async function expectMqttRefusal(document: string, cache: Cache, add: (kind: ProblemKind, message: string) => void): Promise<void> {
  try {
    await generate(document, ['mqtt'], cache);
    add('generation', 'mqtt: an address holding + or # was accepted');
  } catch (error) {
    const refusal = describeError(error);
    if (!/^exit 1: E_MQTT_ADDRESS .* \(at .+\.(?:json|yaml)#\/(?:channels|operations)\/.+\)$/s.test(refusal)) add('generation', `mqtt: not the wildcard refusal with its location: ${refusal}`);
  }
}

/**
 * Generates one document (all targets at once; when that fails, target by target to tell which one),
 * checks the generation, scans every file, and writes the files that depend on the document; the
 * files equal to the reference become links to it, so the compiler checks each distinct file once.
 */
export async function runDocument(index: number, doc: HostileDocument, dir: string, reference: Reference, cache: Cache, targets: readonly string[] = TARGETS): Promise<DocumentResult> {
  const docDir = path.join(dir, `doc-${index}`);
  mkdirSync(docDir, { recursive: true });
  const document = path.join(docDir, doc.format === 'json' ? 'asyncapi.json' : 'asyncapi.yaml');
  writeFileSync(document, doc.text);
  for (const [name, text] of Object.entries(doc.files ?? {})) {
    mkdirSync(path.dirname(path.join(docDir, name)), { recursive: true });
    writeFileSync(path.join(docDir, name), text);
  }
  const result: DocumentResult = { index, doc, file: path.relative(ROOT, document), problems: [], ownFiles: [], expect: doc.expect, diagnostics: [] };
  const add = (kind: ProblemKind, message: string) => result.problems.push({ kind, message });
  if (targets.includes('mqtt') && holdsMqttWildcard(doc)) {
    // MQTT refuses a `+` or `#` in an address's own text (it would widen every subscription):
    // that refusal, with its location, is the expected result; the other targets must still accept it.
    await expectMqttRefusal(document, cache, add);
    targets = targets.filter((target) => target !== 'mqtt');
  }
  let generated: Awaited<ReturnType<typeof generate>>;
  try {
    generated = await generate(document, targets, cache);
  } catch (error) {
    const failing: string[] = [];
    for (const target of targets) {
      try {
        await generate(document, [target], cache);
      } catch (inner) {
        failing.push(`${target}: ${describeError(inner)}`);
      }
    }
    add('generation', `${describeError(error)}${failing.length < targets.length ? ` (fails with ${failing.length === 0 ? 'all targets together only' : failing.map((f) => f.split(':')[0]).join(', ')})` : ''}`);
    return result;
  }
  result.diagnostics = generated.diagnostics;
  for (const diagnostic of generated.diagnostics) {
    if (diagnostic.severity === 'error') add('generation', `error diagnostic: ${diagnostic.message}`);
  }
  if (generated.model) checkNames(generated.model, generated.files, targets, add);
  const out = path.join(docDir, 'out');
  result.out = out;
  const own = new Set<string>();
  for (const file of generated.files) {
    if (!SAFE_PATH.test(file.path)) add('scan', `unexpected output path ${JSON.stringify(file.path)}`);
    checkFile(file, doc, reference, add);
    if (!file.path.endsWith('.ts') || reference.files.get(file.path) !== splitHeader(file.content).body) own.add(file.path);
  }
  // A file equal to the reference is shared only when everything it imports is shared too.
  for (let changed = true; changed; ) {
    changed = false;
    for (const file of generated.files) {
      if (own.has(file.path) || !file.path.endsWith('.ts')) continue;
      const importsOwn = relativeImports(file.content).some((specifier) => own.has(path.posix.join(path.posix.dirname(file.path), specifier).replace(/\.js$/, '.ts')));
      if (importsOwn) {
        own.add(file.path);
        changed = true;
      }
    }
  }
  for (const file of generated.files) {
    if (own.has(file.path)) writeOut(out, file);
    else {
      mkdirSync(path.dirname(path.join(out, file.path)), { recursive: true });
      symlinkSync(path.join(reference.dir, file.path), path.join(out, file.path));
    }
  }
  result.ownFiles = [...own].filter((f) => f.endsWith('.ts'));
  return result;
}

function describeError(error: unknown): string {
  if (error instanceof CodegenError) return `exit ${error.exitCode}: ${error.diagnostics.map((d) => `${d.code} ${d.message} (at ${d.location?.file ?? ''}#${d.location?.pointer ?? ''})`).join('; ')}`;
  return error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 4).join(' | ') : String(error);
}

/**
 * Names the model and the view hand out are unique in their namespace (type names case-insensitively:
 * they may name files too), are plain identifiers, and every operation has its method in every target.
 */
function checkNames(model: ApiModel, files: GeneratedFile[], targets: readonly string[], add: (kind: ProblemKind, message: string) => void): void {
  const view = buildCoreView(model, 'test');
  const groups: Array<[string, string[], boolean]> = [
    ['type name', Object.keys(model.schemas), true],
    ['operation name', model.operations.map((o) => o.name), false],
    ['message name', model.messages.map((m) => m.name), false],
    ['channel name', model.channels.map((c) => c.name), false],
    ['client method', view.operations.map((o) => o.methodName), false],
    ['message id', model.messages.map((m) => m.id), false],
    ['operation id', model.operations.map((o) => o.id), false],
  ];
  for (const [label, names, folded] of groups) {
    const seen = new Set<string>();
    for (const name of names) {
      const key = folded ? name.toLowerCase() : name;
      if (seen.has(key)) add('names', `duplicate ${label}: ${JSON.stringify(name)}`);
      seen.add(key);
    }
  }
  const identifiers = [...Object.keys(model.schemas), ...view.operations.map((o) => o.methodName), ...model.operations.map((o) => o.name), ...model.messages.map((m) => m.name), ...model.channels.map((c) => c.name)];
  for (const name of identifiers) {
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) add('names', `generated name is not a plain ASCII identifier: ${JSON.stringify(name)}`);
  }
  for (const target of targets) {
    const code = files.filter((f) => f.path.startsWith(`${target}/`)).map((f) => f.content).join('\n');
    for (const operation of view.operations) {
      if (!new RegExp(`\\b${operation.methodName}\\b`).test(code)) add('names', `${target}: no client method ${operation.methodName} for operation ${JSON.stringify(operation.id)}`);
    }
  }
}

/** The scan of one generated file. */
function checkFile(file: GeneratedFile, doc: HostileDocument, reference: Reference, add: (kind: ProblemKind, message: string) => void): void {
  const where = file.path;
  const kind = TOOL_OUTPUT.test(file.path) ? 'invisible-tools' : 'invisible';
  const invisible = INVISIBLE.exec(file.content);
  if (invisible) add(kind, `${where}: raw U+${invisible[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()} at ${lineOf(file.content, invisible.index)}`);
  const lone = LONE_SURROGATE.exec(file.content);
  if (lone) add(kind, `${where}: lone surrogate at ${lineOf(file.content, lone.index)} (not representable in UTF-8)`);
  if (!file.path.endsWith('.ts')) return;
  const { header, body } = splitHeader(file.content);
  if (reference.files.get(file.path) === body) {
    // The same code as the reference: only the header comment can hold document text.
    const scanned = scanTypeScript(file.path, header);
    if (scanned.syntaxErrors.length > 0 || scanned.strings.length > 0 || scanned.comments.length !== 1 || scanned.comments[0]!.end !== header.trimEnd().length) {
      add('scan', `${where}: the header is not exactly one comment: ${JSON.stringify(header.slice(0, 300))}`);
    }
    checkComments(scanned.comments, reference, where, add);
    return;
  }
  const scanned = scanTypeScript(file.path, file.content);
  for (const error of scanned.syntaxErrors.slice(0, 3)) add('scan', `syntax error: ${error}`);
  const regions = safeRegions(scanned);
  // The canary never stands in a plain identifier of the document: even as a property name it is an escape.
  const literalsAndComments = safeRegions(scanned, false);
  for (const at of occurrences(file.content, CANARY)) {
    if (!inside(literalsAndComments, at, at + CANARY.length)) add('scan', `${where}: document text escaped into code at ${lineOf(file.content, at)}: ${JSON.stringify(file.content.slice(Math.max(0, at - 60), at + 40))}`);
  }
  for (const text of doc.strings) {
    // Only text that cannot occur in generated code outside literals, keys and comments is looked for:
    // text with a quote, a backtick, a backslash or a non-ASCII character. Names and punctuation occur
    // in code by chance (the generator derives identifiers from names, `123abc` → `_123abc`; ajv writes
    // `data.orderId;`); injection attempts carry the canary, checked above.
    if (text.length < 4 || !/["'`\\]|[^\x00-\x7f]/.test(text) || reference.codeText.includes(text)) continue;
    for (const at of occurrences(file.content, text)) {
      if (!inside(regions, at, at + text.length)) {
        add('scan', `${where}: document string ${JSON.stringify(text)} outside a string literal, key or comment at ${lineOf(file.content, at)}`);
        break;
      }
    }
  }
  checkComments(scanned.comments, reference, where, add);
}

function checkComments(comments: Array<{ text: string }>, reference: Reference, where: string, add: (kind: ProblemKind, message: string) => void): void {
  for (const comment of comments) {
    if (reference.comments.has(comment.text)) continue;
    if (isCompilerDirective(comment.text)) add('scan', `${where}: a comment is a compiler directive: ${JSON.stringify(comment.text.slice(-200))}`);
    if (comment.text.startsWith('/*') && comment.text.indexOf('*/') !== comment.text.length - 2) add('scan', `${where}: a comment closes early: ${JSON.stringify(comment.text.slice(0, 200))}`);
  }
}

function lineOf(text: string, index: number): string {
  return `line ${text.slice(0, index).split('\n').length}`;
}

/**
 * One `tsc --strict` program over many outputs (test/hostile/compile.mjs). Only the files that differ
 * from the reference are listed; the shared ones are reached through links and checked once, at the
 * reference. Returns the compiler's messages by document.
 */
export async function compileBatch(dir: string, reference: Reference, documents: DocumentResult[]): Promise<{ byDocument: Map<number, string[]>; other: string[]; emitDir: string }> {
  const emitDir = path.join(dir, 'emit');
  const files = [...[...reference.files.keys()].map((f) => path.join(reference.dir, f)), ...documents.filter((d) => d.out).flatMap((d) => d.ownFiles.map((f) => path.join(d.out!, f)))];
  const config = {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules/@types')],
      skipLibCheck: true,
      noUnusedLocals: false,
      outDir: emitDir,
      rootDir: dir,
    },
    files,
  };
  const configPath = path.join(dir, 'tsconfig.json');
  writeFileSync(configPath, JSON.stringify(config, null, 1));
  let output = '';
  try {
    await execFileAsync(process.execPath, ['--max-old-space-size=4096', path.join(ROOT, 'test/hostile/compile.mjs'), configPath], { maxBuffer: 256 * 1024 * 1024, cwd: dir });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    output = (e.stdout ?? '') + (e.stderr ?? '');
  }
  const byDocument = new Map<number, string[]>();
  const other: string[] = [];
  let current: number | undefined;
  for (const line of output.split('\n').filter((l) => l.trim() !== '')) {
    // A message starts at column 0 with its file; its explanation lines are indented.
    if (!/^\s/.test(line)) {
      const match = /doc-(\d+)\//.exec(line);
      current = match ? Number(match[1]) : undefined;
    }
    if (current === undefined) other.push(line);
    else byDocument.set(current, [...(byDocument.get(current) ?? []), line]);
  }
  linkEmitted(dir, emitDir, reference, documents);
  return { byDocument, other, emitDir };
}

/** The emitted JavaScript of shared files lives at the reference: link it into each document's emitted folder. */
function linkEmitted(dir: string, emitDir: string, reference: Reference, documents: DocumentResult[]): void {
  const referenceEmit = path.join(emitDir, path.relative(dir, reference.dir));
  for (const d of documents) {
    if (!d.out) continue;
    const own = new Set(d.ownFiles);
    const emitted = path.join(emitDir, path.relative(dir, d.out));
    for (const file of reference.files.keys()) {
      if (own.has(file)) continue;
      const js = file.replace(/\.ts$/, '.js');
      const target = path.join(emitted, js);
      mkdirSync(path.dirname(target), { recursive: true });
      try {
        symlinkSync(path.join(referenceEmit, js), target);
      } catch {
        // already linked
      }
    }
  }
}

interface OperationSpecLike {
  operation: string;
  address: string | null;
  parameterNames: string[];
  buildAddress(parameters: Record<string, string>): string;
}

/**
 * Loads the emitted code and compares the literals in it with the document's strings: escaping that
 * is safe but changes the text would address the wrong topic or report the wrong title.
 */
export async function checkFidelity(dir: string, emitDir: string, d: DocumentResult): Promise<string[]> {
  const problems: string[] = [];
  const base = path.join(emitDir, path.relative(dir, d.out!));
  let index: { documentInfo: { title: string; version: string } };
  let operations: { operations: Record<string, OperationSpecLike> };
  try {
    index = await import(pathToFileURL(path.join(base, 'index.js')).href);
    operations = await import(pathToFileURL(path.join(base, 'operations.js')).href);
  } catch (error) {
    return [`the generated code cannot be loaded: ${(error as Error).message.split('\n')[0]}`];
  }
  // An empty title falls back to a generic one (core view).
  const title = d.expect.title || 'AsyncAPI document';
  if (index.documentInfo.title !== title) problems.push(`documentInfo.title is ${JSON.stringify(index.documentInfo.title)}, expected ${JSON.stringify(title)}`);
  if (index.documentInfo.version !== d.expect.version) problems.push(`documentInfo.version is ${JSON.stringify(index.documentInfo.version)}, expected ${JSON.stringify(d.expect.version)}`);
  const specs = Object.values(operations.operations);
  for (const expected of d.expect.operations) {
    const spec = specs.find((s) => s.operation === expected.id);
    if (!spec) {
      problems.push(`no operation spec with id ${JSON.stringify(expected.id)}`);
      continue;
    }
    if (spec.address !== expected.address) problems.push(`operation ${JSON.stringify(expected.id)}: address ${JSON.stringify(spec.address)}, expected ${JSON.stringify(expected.address)}`);
    if (JSON.stringify(spec.parameterNames) !== JSON.stringify(expected.parameters)) problems.push(`operation ${JSON.stringify(expected.id)}: parameters ${JSON.stringify(spec.parameterNames)}, expected ${JSON.stringify(expected.parameters)}`);
    if (expected.address !== null) {
      const values = Object.fromEntries(expected.parameters.map((name, i) => [name, `v${i}`]));
      const built = expected.address.replace(/\{([^{}]+)\}/g, (_, name: string) => values[name] ?? '');
      try {
        const actual = spec.buildAddress(values);
        if (actual !== built) problems.push(`operation ${JSON.stringify(expected.id)}: buildAddress gave ${JSON.stringify(actual)}, expected ${JSON.stringify(built)}`);
      } catch (error) {
        problems.push(`operation ${JSON.stringify(expected.id)}: buildAddress threw ${(error as Error).message}`);
      }
    }
  }
  if (specs.length !== d.expect.operations.length) problems.push(`${specs.length} operation specs for ${d.expect.operations.length} operations`);
  return problems;
}
