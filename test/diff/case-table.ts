import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { FIXTURES, freshDir } from '../helpers/codegen.js';

/**
 * The change table: fixtures/diff/cases/*.yaml, one change kind per file. A case names a base
 * document (fixtures/diff/bases/<name>.yaml), or several to run it once per base (a send and a
 * receive variant), and gives the old and the new version as JSON merge patches of it (RFC 7386:
 * `null` deletes, lists are replaced whole). Without a base, `old`/`new` are whole documents.
 * `files` adds referenced files next to both versions. `expect` holds the exit code and the exact
 * list of findings ("RULE_ID severity"), per base when they differ by direction.
 */

export interface Expectation {
  exit: number;
  findings?: string[];
  /** A substring the JSON report or stderr must contain (for exit 2: the reason). */
  stderr?: string;
}

export interface Case {
  title: string;
  base?: string | string[];
  old?: unknown;
  new?: unknown;
  files?: Record<string, unknown>;
  args?: string[];
  expect: Expectation | Record<string, Expectation>;
}

/** One case run on one base: both versions as documents. */
export interface CaseRun {
  file: string;
  spec: Case;
  base?: string;
  name: string;
  oldDoc: unknown;
  newDoc: unknown;
  expected: Expectation;
}

const CASES = path.join(FIXTURES, 'diff/cases');
const BASES = path.join(FIXTURES, 'diff/bases');

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function loadBase(name: string): unknown {
  return parse(readFileSync(path.join(BASES, `${name}.yaml`), 'utf8'));
}

export const caseFiles = readdirSync(CASES).filter((f) => f.endsWith('.yaml')).sort();

/** Every case of the table on every base it names. */
export function caseRuns(): CaseRun[] {
  const runs: CaseRun[] = [];
  for (const file of caseFiles) {
    const spec = parse(readFileSync(path.join(CASES, file), 'utf8')) as Case;
    const bases = spec.base === undefined ? [undefined] : Array.isArray(spec.base) ? spec.base : [spec.base];
    for (const base of bases) {
      runs.push({
        file,
        spec,
        base,
        name: `${file.replace(/\.yaml$/, '')}${base ? ` [${base}]` : ''}: ${spec.title}`,
        oldDoc: base ? mergePatch(loadBase(base), spec.old ?? {}) : spec.old,
        newDoc: base ? mergePatch(loadBase(base), spec.new ?? {}) : spec.new,
        expected: (base && (spec.expect as Record<string, Expectation>)[base]) ?? (spec.expect as Expectation),
      });
    }
  }
  return runs;
}

/** Writes both versions of a case (and its extra files) into a fresh folder; returns their paths. */
export function writeCase(run: CaseRun): { dir: string; old: string; new: string } {
  const dir = freshDir(`diff-case-${run.file}`);
  const write = (side: 'old' | 'new', doc: unknown) => {
    const folder = path.join(dir, side);
    mkdirSync(folder, { recursive: true });
    for (const [relative, content] of Object.entries(run.spec.files ?? {})) {
      const value = (content as Record<string, unknown>)?.[side] ?? content;
      writeFileSync(path.join(folder, relative), typeof value === 'string' ? value : stringify(value));
    }
    const target = path.join(folder, 'asyncapi.yaml');
    writeFileSync(target, typeof doc === 'string' ? doc : stringify(doc));
    return target;
  };
  return { dir, old: write('old', run.oldDoc), new: write('new', run.newDoc) };
}
