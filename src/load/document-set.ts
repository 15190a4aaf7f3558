import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CodegenError, documentError, usageError, type Diagnostic, type SourceLocation } from '../errors.js';
import { appendPointer, escapeSegment, getAtPointer, parsePointer, parseRefPointer, pointerOfPath, type PathStep } from './pointer.js';
import type { SourceFile } from './source-file.js';

// The parsing half of loading (and with it the YAML parser) is imported on the first parse, so that
// `loadKnownInputs` (a run answered from the cache) never loads it.
let sourceFileModule: Promise<typeof import('./source-file.js')> | undefined;
const sourceFiles = () => (sourceFileModule ??= import('./source-file.js'));

export interface LoadOptions {
  /** Allow `$ref`s to http(s) URLs. Off by default: a document must not make the tool fetch anything. */
  allowRemoteRefs?: boolean;
  /** Allow `$ref`s to files outside the project root (symlinks are resolved first). */
  allowOutsideRefs?: boolean;
  /**
   * The folder `$ref`s may reach: the config file's folder when a config is used. Without it (or when
   * it does not hold the document) the root is found as `findProjectRoot` says.
   */
  projectRoot?: string;
  /** Largest file accepted, in bytes. */
  maxFileBytes?: number;
  /** Largest total size of the root file and all the files it references, in bytes. */
  maxTotalBytes?: number;
  /** Reads a file instead of the disk (used by `diff --against` to read from git). */
  readFile?: (absolutePath: string) => Promise<string | undefined>;
  cwd?: string;
  /** Record where each node starts while parsing (`SourceFile.positions`): `diff` locates every finding. */
  positions?: boolean;
}

/** A root document and every file it references, parsed, keyed by file id. */
export interface DocumentSet {
  root: SourceFile;
  files: Map<string, SourceFile>;
  /** The root document's folder (paths in cache keys are relative to it). */
  baseDir: string;
  /** The folder references may not leave unless allowed, and what it is. */
  projectRoot: ProjectRoot;
  /** Paths as written (through symlinks) mapped to the file id they resolve to. */
  aliases: Map<string, string>;
  /**
   * References that were refused or could not be read. They are reported together with the
   * document's other errors (so a document is refused for all its reasons at once), never ignored.
   */
  problems: Diagnostic[];
}

/** The folder `$ref`s may reach without `--allow-outside-refs`, and what it is (for messages). */
export interface ProjectRoot {
  dir: string;
  kind: 'config' | 'git' | 'cwd' | 'document';
}

/** Where a value lives: a file and a JSON pointer in it. */
export interface NodeRef {
  file: SourceFile;
  pointer: string;
}

/**
 * Largest file accepted (16 MiB). The largest documents we know are far below (a 2,000-channel
 * document is 3 MB); time and memory grow with the size, so a bigger file is refused before it is
 * read (bench/hostile/RESULTS.md has the figures).
 */
export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Largest total of all the files of one document (the root and every file it references). */
export const DEFAULT_MAX_TOTAL_BYTES = 32 * 1024 * 1024;

export async function loadDocumentSet(rootPath: string, options: LoadOptions = {}): Promise<DocumentSet> {
  const cwd = options.cwd ?? process.cwd();
  const absolute = path.resolve(cwd, rootPath);
  const real = await realPathOrError(absolute, rootPath, options);
  const baseDir = path.dirname(real);
  const projectRoot = await findProjectRoot(real, options, cwd);
  const root = await readSource(real, rootPath, options, undefined);
  const files = new Map<string, SourceFile>([[root.id, root]]);
  const aliases = new Map<string, string>();
  const problems: Diagnostic[] = [];
  /** A remote URL refused or unreachable is reported once: its diagnostic and how many references point there. */
  const refusedRemote = new Map<string, [Diagnostic, number]>();
  const queue: SourceFile[] = [root];
  const maxTotal = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  let total = root.text.length;
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const { ref, pointer } of collectRefs(file.data)) {
      const target = splitRef(ref);
      if (target.file === '') continue;
      const where: SourceLocation = { file: file.displayPath, pointer: appendPointer(pointer, '$ref') };
      const position = file.locate(where.pointer);
      where.line = position?.line;
      where.column = position?.column;
      try {
        const id = await resolveFileId(file, target.file, projectRoot, { ...options, cwd }, where, aliases);
        if (files.has(id)) continue;
        const display = isRemote(id) ? id : displayPathOf(id, cwd);
        const loaded = await readSource(id, display, options, where);
        total += loaded.text.length;
        if (total > maxTotal) {
          throw documentError('E_TOO_LARGE', `refused: the document and the files it references exceed ${maxTotal} bytes together (resource exhaustion guard)`, where);
        }
        files.set(id, loaded);
        queue.push(loaded);
      } catch (error) {
        if (!(error instanceof CodegenError) || error.exitCode !== 1) throw error;
        problems.push(...onceForRefusedUrl(error.diagnostics, target.file, refusedRemote));
      }
    }
  }
  for (const [diagnostic, count] of refusedRemote.values()) {
    if (count > 1) diagnostic.message += ` (${count} references to this URL)`;
  }
  const set: DocumentSet = { root, files, baseDir, projectRoot, aliases, problems };
  checkExpansion(set, (await sourceFiles()).MAX_NESTING_DEPTH);
  return set;
}

/** The files of a document set, unparsed, in the order `loadDocumentSet` finds them. */
export interface InputFiles {
  /** The root document's folder. */
  baseDir: string;
  files: Array<{ id: string; text: string }>;
  /** Paths as written (through symlinks) mapped to the file id they resolve to. */
  aliases: Map<string, string>;
}

/**
 * The file part of each `$ref` of a parsed file, in the order `loadDocumentSet` follows them (each
 * once). A pure function of the file's text, so it can be remembered by content (`loadKnownInputs`).
 */
export function fileRefsOf(file: SourceFile): string[] {
  return [...new Set(collectRefs(file.data).map(({ ref }) => splitRef(ref).file))].filter((target) => target !== '');
}

/**
 * The files `loadDocumentSet` would load, found without parsing any: `refsOf(id, text)` gives the
 * `fileRefsOf` of a file parsed before (remembered by content and kind: a `.proto` file is not YAML). Every path is resolved, checked
 * against the project root and read exactly as `loadDocumentSet` does. Undefined as soon as a
 * file's references are not known, a reference is remote, or anything would be reported (refused,
 * missing, too large): the caller then loads the set in full, which says why.
 */
export async function loadKnownInputs(rootPath: string, options: LoadOptions, refsOf: (id: string, text: string) => string[] | undefined): Promise<InputFiles | undefined> {
  const cwd = options.cwd ?? process.cwd();
  try {
    const real = await realPathOrError(path.resolve(cwd, rootPath), rootPath, options);
    const projectRoot = await findProjectRoot(real, options, cwd);
    const texts = new Map<string, string>([[real, await readText(real, rootPath, options, undefined)]]);
    const aliases = new Map<string, string>();
    const nowhere: SourceLocation = { file: rootPath, pointer: '' };
    let total = texts.get(real)!.length;
    for (const [id, text] of texts) {
      const refs = isRemote(id) ? undefined : refsOf(id, text);
      if (refs === undefined || refs.some(isRemote)) return undefined;
      for (const ref of refs) {
        const target = await resolveFileId({ id }, ref, projectRoot, { ...options, cwd }, nowhere, aliases);
        if (texts.has(target)) continue;
        const loaded = await readText(target, displayPathOf(target, cwd), options, undefined);
        total += loaded.length;
        if (total > (options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES)) return undefined;
        // A Map iterates over entries added during the loop: the same breadth-first order as the queue above.
        texts.set(target, loaded);
      }
    }
    return { baseDir: path.dirname(real), files: [...texts].map(([id, text]) => ({ id, text })), aliases };
  } catch (error) {
    if (error instanceof CodegenError) return undefined;
    throw error;
  }
}

/** The unparsed view of a loaded set. */
export function inputFilesOf(set: DocumentSet): InputFiles {
  return { baseDir: set.baseDir, files: [...set.files.values()].map((file) => ({ id: file.id, text: file.text })), aliases: set.aliases };
}

/** A remote URL that is refused or cannot be fetched is reported once, however many references point to it (counted). */
function onceForRefusedUrl(diagnostics: Diagnostic[], url: string, refused: Map<string, [Diagnostic, number]>): Diagnostic[] {
  if (!isRemote(url)) return diagnostics;
  return diagnostics.filter((diagnostic) => {
    const key = `${diagnostic.code}\u0000${url}`;
    const known = refused.get(key);
    if (known) known[1]++;
    else refused.set(key, [diagnostic, 1]);
    return !known;
  });
}

/**
 * Most values the document may hold once every `$ref` is replaced by its target, as validation does.
 * A reference is not a copy, so a small file can stand for an enormous document: 30 schemas, each
 * with two properties referring to the next, expand to 2^30 values (a "billion laughs" made of
 * `$ref`s). Real documents expand to about a quarter of a value per byte: the 2,000-channel synthetic
 * document (3 MB) to 680,000 values (and takes 2.3 GB of memory to generate); the limit leaves room
 * above that while keeping validation to seconds and memory within Node's default heap.
 */
export const MAX_EXPANDED_VALUES = 2_000_000;

/**
 * Refuses a document whose references expand beyond MAX_EXPANDED_VALUES values, or nest deeper than
 * MAX_NESTING_DEPTH once expanded (a chain of thousands of references would overflow the stack of
 * every recursive walk after this one). One pass over the values, each counted once (memoised by
 * identity); a reference back to a value being counted (recursion) counts as one value, as validation
 * leaves it a reference.
 */
function checkExpansion(set: DocumentSet, maxNestingDepth: number): void {
  measureExpansion(set, MAX_EXPANDED_VALUES, maxNestingDepth);
}

/** The number of values and the depth of the document with every `$ref` replaced; throws past the limits. */
export function measureExpansion(set: DocumentSet, maxValues = Infinity, maxDepth = Infinity): { values: number; depth: number } {
  interface Frame {
    value: object;
    file: SourceFile;
    /** The pointer of this value when it starts a walk (the root, a reference's target); else `key` under the frame below. */
    base?: string;
    key?: string;
    /** The target of a reference (replacing it), or the keys of an object or array. */
    target?: { value: unknown; file: SourceFile; pointer: string } | null;
    keys?: string[];
    next: number;
    size: number;
    depth: number;
  }
  const measured = new Map<object, { size: number; depth: number }>();
  const active = new Set<object>();
  const stack: Frame[] = [];
  const enter = (value: object, file: SourceFile, base: string | undefined, key: string | undefined): void => {
    active.add(value);
    const ref = !Array.isArray(value) && typeof (value as Record<string, unknown>).$ref === 'string' ? ((value as Record<string, unknown>).$ref as string) : undefined;
    if (ref !== undefined) {
      const target = resolveRefTarget(set, file, ref);
      // A reference is replaced by its target: it adds no value and no level of its own.
      stack.push({ value, file, base, key, target: target ? { value: valueAt(target), file: target.file, pointer: target.pointer } : null, next: 0, size: 0, depth: 0 });
    } else {
      stack.push({ value, file, base, key, keys: Object.keys(value), next: 0, size: 1, depth: 0 });
    }
  };
  const pointerOf = (index: number): string => {
    const frame = stack[index]!;
    return frame.base ?? appendPointer(pointerOf(index - 1), frame.key!);
  };
  const root = set.root.data;
  if (root === null || typeof root !== 'object') return { values: 1, depth: 0 };
  enter(root, set.root, '', undefined);
  let total = { values: 0, depth: 0 };
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const isRef = frame.keys === undefined;
    if (isRef ? frame.next === 0 && frame.target !== null : frame.next < frame.keys!.length) {
      let value: unknown;
      let file = frame.file;
      let base: string | undefined;
      let key: string | undefined;
      if (isRef) {
        frame.next = 1;
        ({ value, file, pointer: base } = frame.target!);
      } else {
        key = frame.keys![frame.next++]!;
        value = (frame.value as Record<string, unknown>)[key];
      }
      const known = value !== null && typeof value === 'object' ? measured.get(value) : undefined;
      if (value === null || typeof value !== 'object' || active.has(value)) {
        frame.size += 1;
        frame.depth = Math.max(frame.depth, 1);
      } else if (known) {
        frame.size += known.size;
        frame.depth = Math.max(frame.depth, known.depth);
      } else {
        enter(value, file, base, key);
      }
      continue;
    }
    const result = { size: frame.size, depth: frame.depth + (isRef ? 0 : 1) };
    if (result.size > maxValues || result.depth > maxDepth) {
      const where = { file: frame.file.displayPath, pointer: pointerOf(stack.length - 1) };
      throw result.size > maxValues
        ? documentError('E_REF_EXPANSION', `refused: with its $refs (and YAML aliases) expanded, the document would hold more than ${maxValues} values (resource exhaustion guard)`, where)
        : documentError('E_TOO_DEEP', `refused: with its $refs expanded, the document nests more than ${maxDepth} levels deep (resource exhaustion guard)`, where);
    }
    stack.pop();
    active.delete(frame.value);
    measured.set(frame.value, result);
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.size += result.size;
      parent.depth = Math.max(parent.depth, result.depth);
    } else {
      total = { values: result.size, depth: result.depth };
    }
  }
  return total;
}

/** Every `$ref` string in a parsed file, with the pointer of the object holding it. */
export function collectRefs(data: unknown): Array<{ ref: string; pointer: string }> {
  // Each entry is also the path to its value (the root's is empty): pointers are built only for `$ref`s.
  type Step = PathStep & { node: unknown };
  const found: Array<{ ref: string; pointer: string }> = [];
  const root: Step = { node: data, parent: undefined, segment: '' };
  const stack: Step[] = [root];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const { node } = step;
    if (node === null || typeof node !== 'object') continue;
    const path = step === root ? undefined : step;
    if (Array.isArray(node)) {
      node.forEach((child, index) => stack.push({ node: child, parent: path, segment: index }));
      continue;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.$ref === 'string') found.push({ ref: record.$ref, pointer: pointerOfPath(path) });
    for (const key of Object.keys(record)) {
      if (key !== '$ref') stack.push({ node: record[key], parent: path, segment: key });
    }
  }
  return found;
}

export function splitRef(ref: string): { file: string; pointer: string } {
  const hash = ref.indexOf('#');
  if (hash === -1) return { file: ref, pointer: '' };
  return { file: ref.slice(0, hash), pointer: ref.slice(hash + 1) };
}

export function isRemote(ref: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ref);
}

/** Resolves a `$ref` written in `from` to the file and pointer it names. */
export function resolveRefTarget(set: DocumentSet, from: SourceFile, ref: string): NodeRef | undefined {
  const { file, pointer } = splitRef(ref);
  let target = from;
  if (file !== '') {
    const id = isRemote(file) ? file : isRemote(from.id) ? new URL(file, from.id).href : path.resolve(path.dirname(from.id), file);
    const found = set.files.get(id) ?? set.files.get(set.aliases.get(id) ?? '');
    if (!found) return undefined;
    target = found;
  }
  return { file: target, pointer: decodePointer(pointer) };
}

/** Decoded fragments by fragment: the same few `$ref`s are resolved by every walk (expansion check, validation, model). */
const decodedPointers = new Map<string, string>();

function decodePointer(pointer: string): string {
  let decoded = decodedPointers.get(pointer);
  if (decoded === undefined) {
    try {
      decoded = pointer === '' ? '' : '/' + parseRefPointer(pointer).map(escapeSegment).join('/');
    } catch {
      decoded = pointer;
    }
    decodedPointers.set(pointer, decoded);
  }
  return decoded;
}

/** The value at a node reference. */
export function valueAt(ref: NodeRef): unknown {
  let segments: string[];
  try {
    segments = parsePointer(ref.pointer);
  } catch {
    // Not a JSON pointer (`#anchor`, a malformed `%` escape): nothing there, reported as unresolvable.
    return undefined;
  }
  return getAtPointer(ref.file.data, segments);
}

/**
 * The project a document belongs to, which its `$ref`s may not leave: documents keep shared parts
 * beside the services that use them (`service-a/asyncapi.yaml` → `../common/messages.yaml`), so the
 * boundary that protects a user is the project, not the document's folder. The first of these that
 * holds the document: the config file's folder (when a config is used), the git work tree, the
 * current folder; else the document's own folder. Paths are real (symlinks resolved), except when
 * files are read from git (`readFile`), where they are compared as written.
 */
export async function findProjectRoot(document: string, options: LoadOptions, cwd: string): Promise<ProjectRoot> {
  const real = (dir: string) => (options.readFile ? Promise.resolve(path.resolve(dir)) : fs.realpath(dir).catch(() => path.resolve(dir)));
  if (options.projectRoot !== undefined) {
    const dir = await real(path.resolve(cwd, options.projectRoot));
    if (isInside(dir, document)) return { dir, kind: 'config' };
  }
  const git = await gitWorkTree(path.dirname(document));
  if (git !== undefined) return { dir: git, kind: 'git' };
  const current = await real(cwd);
  if (isInside(current, document)) return { dir: current, kind: 'cwd' };
  return { dir: path.dirname(document), kind: 'document' };
}

/** The nearest folder at or above `dir` holding a `.git` entry (a folder, or a file in a linked work tree). */
async function gitWorkTree(dir: string): Promise<string | undefined> {
  for (let current = dir; ; current = path.dirname(current)) {
    if (await fs.lstat(path.join(current, '.git')).then(() => true, () => false)) return current;
    if (path.dirname(current) === current) return undefined;
  }
}

const ROOT_KINDS: Record<ProjectRoot['kind'], string> = {
  config: "the config file's folder",
  git: 'the git work tree holding the document',
  cwd: 'the current folder',
  document: "the document's folder",
};

/** "the project root, the git work tree holding the document (../repo)", for messages. */
export function describeProjectRoot(root: ProjectRoot, cwd: string): string {
  return `the project root, ${ROOT_KINDS[root.kind]} (${displayPathOf(root.dir, cwd)})`;
}

async function resolveFileId(
  from: Pick<SourceFile, 'id'>,
  target: string,
  projectRoot: ProjectRoot,
  options: LoadOptions,
  where: SourceLocation,
  aliases: Map<string, string>,
): Promise<string> {
  if (isRemote(target) || isRemote(from.id)) {
    const url = isRemote(target) ? target : new URL(target, from.id).href;
    if (!options.allowRemoteRefs) {
      throw documentError(
        'E_REMOTE_REF',
        `refused remote $ref "${target}": remote references are off by default; pass --allow-remote-refs to fetch them`,
        where,
      );
    }
    return url;
  }
  const absolute = path.resolve(path.dirname(from.id), target);
  let real: string;
  if (options.readFile) {
    real = absolute;
  } else {
    try {
      real = await fs.realpath(absolute);
    } catch {
      throw documentError('E_REF_NOT_FOUND', `unresolvable $ref "${target}": file ${displayPathOf(absolute, process.cwd())} does not exist`, where);
    }
  }
  if (!options.allowOutsideRefs && !isInside(projectRoot.dir, real)) {
    throw documentError(
      'E_OUTSIDE_REF',
      `refused $ref "${target}": it leaves ${describeProjectRoot(projectRoot, options.cwd ?? process.cwd())}${real !== absolute ? ' (through a symlink)' : ''}; pass --allow-outside-refs to allow it`,
      where,
    );
  }
  // Remember the path as written so the resolver finds the file either way.
  if (real !== absolute) aliases.set(absolute, real);
  return real;
}

function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

async function realPathOrError(absolute: string, shown: string, options: LoadOptions): Promise<string> {
  if (options.readFile) return absolute;
  try {
    const stat = await fs.stat(absolute);
    if (stat.isDirectory()) throw usageError('E_NOT_A_FILE', `${shown} is a directory, not a document`, { file: shown, pointer: '' });
    return await fs.realpath(absolute);
  } catch (error) {
    if (error instanceof Error && error.name === 'CodegenError') throw error;
    throw usageError('E_FILE_NOT_FOUND', `cannot read ${shown}: no such file`, { file: shown, pointer: '' });
  }
}

async function readSource(id: string, display: string, options: LoadOptions, where: SourceLocation | undefined): Promise<SourceFile> {
  const text = await readText(id, display, options, where);
  return (await sourceFiles()).parseSourceText(id, display, text, { positions: options.positions });
}

/** A file's text, with every check made before parsing (regular file, size, UTF-8, not binary). */
async function readText(id: string, display: string, options: LoadOptions, where: SourceLocation | undefined): Promise<string> {
  const max = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  let text: string | undefined;
  if (isRemote(id)) {
    text = await fetchRemote(id, max, where);
  } else if (options.readFile) {
    text = await options.readFile(id);
    if (text === undefined) {
      throw documentError('E_REF_NOT_FOUND', `cannot read ${display}: it does not exist at that revision`, where ?? { file: display, pointer: '' });
    }
    if (text.length > max) {
      throw documentError('E_TOO_LARGE', `refused: ${display} is ${text.length} characters, over the ${max}-byte limit (resource exhaustion guard)`, { file: display, pointer: '' });
    }
  } else {
    const stat = await fs.stat(id).catch(() => undefined);
    if (!stat) throw documentError('E_REF_NOT_FOUND', `cannot read ${display}: no such file`, where ?? { file: display, pointer: '' });
    // A FIFO or a device (`/dev/zero`, `/dev/stdin`) would block or never end: only regular files are read.
    if (!stat.isFile()) throw documentError('E_NOT_A_FILE', `refused: ${display} is not a regular file`, where ?? { file: display, pointer: '' });
    if (stat.size > max) {
      throw documentError('E_TOO_LARGE', `refused: ${display} is ${stat.size} bytes, over the ${max}-byte limit (resource exhaustion guard)`, { file: display, pointer: '' });
    }
    const buffer = await fs.readFile(id);
    text = decodeUtf8(buffer, display);
  }
  return text;
}

function decodeUtf8(buffer: Buffer, display: string): string {
  if (buffer.includes(0)) {
    throw usageError('E_BINARY_FILE', `${display} is a binary file, not a YAML or JSON document`, { file: display, pointer: '' });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer).replace(/^\uFEFF/, '');
  } catch {
    throw usageError('E_BINARY_FILE', `${display} is not UTF-8 text`, { file: display, pointer: '' });
  }
}

async function fetchRemote(url: string, max: number, where: SourceLocation | undefined): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    // Read at most `max` bytes: a server that sends forever must not fill the memory.
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > max) throw new Error(`response larger than the ${max}-byte limit`);
      chunks.push(chunk);
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)).replace(/^\uFEFF/, '');
  } catch (error) {
    throw documentError('E_REF_NOT_FOUND', `cannot fetch ${url}: ${(error as Error).message}`, where ?? { file: url, pointer: '' });
  }
}

export function displayPathOf(absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative || '.';
}
