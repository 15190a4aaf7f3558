import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { disabledCache, hashOf, type Cache } from '../cache/cache.js';
import type { GeneratedFile } from '../generators/contract.js';
import { escapeInvisible } from '../model/names.js';

/**
 * Fixed options, not the user's prettier config: the same document must give the same bytes on
 * every machine, and `--check` must not flip when a developer's editor settings change.
 */
export const PRETTIER_OPTIONS = { parser: 'typescript', printWidth: 120, singleQuote: true, trailingComma: 'all' } as const;

/** Formatted bodies of the static run-time files, produced at build time (scripts/warm-format-cache.mjs). */
export const SHIPPED_FORMAT_CACHE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/format-cache');

const FORMAT_KEY = JSON.stringify(PRETTIER_OPTIONS) + '|prettier3';

type FormatFn = (source: string, filepath: string) => Promise<string>;
let loadedFormatter: Promise<FormatFn> | undefined;

/** prettier's standalone build with the TypeScript parser: loaded only when a file is not in the cache. */
function formatter(): Promise<FormatFn> {
  loadedFormatter ??= (async () => {
    const [{ format }, typescript, estree] = await Promise.all([
      import('prettier/standalone'),
      import('prettier/plugins/typescript'),
      import('prettier/plugins/estree'),
    ]);
    const plugins = [typescript.default ?? typescript, estree.default ?? estree] as never;
    // The file name makes prettier skip its JSX guess for `.ts` files: a regular expression that
    // is quadratic in the file's size (9.8 s of 31.7 s on a 500-channel document). Same output.
    return (source: string, filepath: string) => format(source, { ...PRETTIER_OPTIONS, filepath, plugins });
  })();
  return loadedFormatter;
}

/**
 * Formats TypeScript files in memory. The leading header comment (document title and versions)
 * is set aside, so a file whose code did not change is found in the cache whatever the header says.
 */
export async function formatFiles(files: GeneratedFile[], cache: Cache = disabledCache): Promise<GeneratedFile[]> {
  // One file at a time: prettier works on one thread either way, and formatting every file at once
  // keeps every file's syntax tree alive together (the peak memory of large documents).
  const formatted: GeneratedFile[] = [];
  for (const file of files) formatted.push(file.path.endsWith('.ts') && file.format !== false ? await formatFile(file, cache) : stripFlag(file));
  return formatted;
}

function stripFlag(file: GeneratedFile): GeneratedFile {
  const content = file.content.endsWith('\n') ? file.content : file.content + '\n';
  return { path: file.path, content: /\.(ts|js|json)$/.test(file.path) ? escapeInvisible(content) : content };
}

async function formatFile(file: GeneratedFile, cache: Cache): Promise<GeneratedFile> {
  const { header, body } = splitHeader(file.content);
  const key = hashOf(FORMAT_KEY, body);
  let formatted = cache.get('format', key);
  if (formatted === undefined) {
    try {
      formatted = await (await formatter())(body, file.path);
    } catch (error) {
      throw new Error(`internal: generated ${file.path} is not valid TypeScript: ${(error as Error).message.split('\n')[0]}`);
    }
    cache.set('format', key, formatted);
  }
  // Last, because prettier and the tools before it (json-schema-to-typescript, ajv) write document
  // text raw: after this no invisible or bidirectional character stands raw in code (Trojan Source).
  return { path: file.path, content: header + escapeInvisible(formatted) };
}

/** A file's leading `/** ... *\/` block (and the line ending after it), and the rest. */
export function splitHeader(content: string): { header: string; body: string } {
  if (!content.startsWith('/**')) return { header: '', body: content };
  const end = content.indexOf('*/\n');
  if (end === -1) return { header: '', body: content };
  return { header: content.slice(0, end + 3), body: content.slice(end + 3) };
}
