import { disabledCache, hashOf, type Cache } from '../cache/cache.js';
import type { GeneratedFile } from '../generators/contract.js';
import { escapeInvisible } from '../model/names.js';

import { PRETTIER_OPTIONS } from './style.js';

export { PRETTIER_OPTIONS };

const FORMAT_KEY = JSON.stringify(PRETTIER_OPTIONS) + '|prettier3';

type FormatFn = (source: string, filepath: string) => Promise<string>;
let loadedFormatter: Promise<FormatFn> | undefined;

/**
 * prettier's standalone build with the Babel parser: loaded only when a file is not in the cache.
 * Babel refuses a few things the TypeScript compiler takes (seen: a quoted property key followed by
 * json-schema-to-typescript's `-1[][]`, no semicolon between): such a file is formatted with
 * prettier's TypeScript parser, loaded only then. Where both parse, both print the same text (docs/DECISIONS.md).
 */
function formatter(): Promise<FormatFn> {
  loadedFormatter ??= (async () => {
    const [{ format }, babel, estree] = await Promise.all([
      import('prettier/standalone'),
      import('prettier/plugins/babel'),
      import('prettier/plugins/estree'),
    ]);
    const plugins = [babel.default ?? babel, estree.default ?? estree] as never;
    let typescriptPlugins: Promise<never> | undefined;
    const withTypescript = () =>
      (typescriptPlugins ??= import('prettier/plugins/typescript').then((typescript) => [typescript.default ?? typescript, estree.default ?? estree] as never));
    // The file name makes prettier skip its JSX guess for `.ts` files: a regular expression that
    // is quadratic in the file's size (9.8 s of 31.7 s on a 500-channel document). Same output.
    return async (source: string, filepath: string) => {
      try {
        return await format(source, { ...PRETTIER_OPTIONS, filepath, plugins });
      } catch {
        return format(source, { ...PRETTIER_OPTIONS, parser: 'typescript', filepath, plugins: await withTypescript() });
      }
    };
  })();
  return loadedFormatter;
}

/**
 * Formats TypeScript files in memory. The leading header comment (document title and versions)
 * is set aside, so a file whose code did not change is found in the cache whatever the header says.
 */
export async function formatFiles(files: GeneratedFile[], cache: Cache = disabledCache): Promise<GeneratedFile[]> {
  const jobs: FormatJob[] = [];
  const formatted = files.map((file, index): GeneratedFile => {
    if (!file.path.endsWith('.ts') || file.format === false) return stripFlag(file);
    const { header, body } = splitHeader(file.content);
    if (file.prettierForm && inPrettierForm(body)) return finish(file.path, header, body);
    const key = hashOf(FORMAT_KEY, body);
    const hit = cache.get('format', key);
    if (hit === undefined) jobs.push({ index, path: file.path, header, body, key });
    return finish(file.path, header, hit ?? '');
  });
  await runJobs(jobs, async (job, format) => {
    let result: string;
    try {
      result = await format(job.body, job.path);
    } catch (error) {
      throw new Error(`internal: generated ${job.path} is not valid TypeScript: ${(error as Error).message.split('\n')[0]}`);
    }
    cache.set('format', job.key, result);
    formatted[job.index] = finish(job.path, job.header, result);
  });
  return formatted;
}

interface FormatJob {
  index: number;
  path: string;
  header: string;
  body: string;
  key: string;
}

/**
 * Formats the cache misses one at a time. Prettier is single-threaded; one file at a time keeps one
 * syntax tree alive (the peak memory of large documents). A second thread was tried and measured: on
 * this 2-core machine two formatting threads run at about half speed each (2.5 s for what takes 1.3 s
 * and 1.6 s alone), so it saved 15% of wall time for twice the memory (docs/DECISIONS.md).
 */
async function runJobs(jobs: FormatJob[], work: (job: FormatJob, format: FormatFn) => Promise<void>): Promise<void> {
  if (jobs.length === 0) return;
  const format = await formatter();
  for (const job of jobs) await work(job, format);
}

/**
 * A file its generator wrote in prettier's form is kept as it is when nothing in it can have been
 * laid out wrongly: every line of code within the print width (a longer one is a case the view's
 * layout does not model) and only ASCII (prettier counts some characters twice in a line's width),
 * and no trailing whitespace (prettier drops it). A line of a comment may be longer or hold other
 * characters: prettier prints comments as they are (only re-indenting the ` * ` lines of a block
 * comment, which the templates and the view write in place), so its width decides no layout.
 */
export function inPrettierForm(body: string): boolean {
  if (!body.endsWith('\n') || /[ \t]\n/.test(body)) return false;
  let inComment = false;
  let start = 0;
  for (let end = body.indexOf('\n'); end !== -1; start = end + 1, end = body.indexOf('\n', start)) {
    const text = body.slice(start, end).trimStart();
    // Strings cannot span lines, so a line of generated code that starts with `/*` starts a comment.
    const opens: boolean = inComment || text.startsWith('/*');
    const closes: boolean = opens && text.includes('*/', inComment ? 0 : 2);
    // Only a line that is all comment may be long: one with code after the comment's end is measured.
    const comment = text.startsWith('//') || (opens && (!closes || (text.endsWith('*/') && text.indexOf('*/', inComment ? 0 : 2) === text.length - 2)));
    inComment = opens && !closes;
    if (!comment && (end - start > PRETTIER_OPTIONS.printWidth || /[^\x00-\x7f]/.test(text))) return false;
  }
  return true;
}

function stripFlag(file: GeneratedFile): GeneratedFile {
  const content = file.content.endsWith('\n') ? file.content : file.content + '\n';
  return { path: file.path, content: /\.(ts|js|json)$/.test(file.path) ? escapeInvisible(content) : content };
}

// Last, because prettier and the tools before it (json-schema-to-typescript, ajv) write document
// text raw: after this no invisible or bidirectional character stands raw in code (Trojan Source).
function finish(filePath: string, header: string, formatted: string): GeneratedFile {
  return { path: filePath, content: header + escapeInvisible(formatted) };
}

/** A file's leading `/** ... *\/` block (and the line ending after it), and the rest. */
export function splitHeader(content: string): { header: string; body: string } {
  if (!content.startsWith('/**')) return { header: '', body: content };
  const end = content.indexOf('*/\n');
  if (end === -1) return { header: '', body: content };
  return { header: content.slice(0, end + 3), body: content.slice(end + 3) };
}
