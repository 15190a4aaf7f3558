import fc from 'fast-check';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDir, ROOT } from '../helpers/codegen.js';
import { hostileDocumentOfCases, type AsyncApiVersion } from './documents.js';
import { MISTAKEN_PLACEMENTS, placements, refPlacementDocuments } from './ref-placement.js';
import { buildReference, checkFidelity, compileBatch, memoryCache, runDocument, TARGETS, type DocumentResult, type ProblemKind } from './harness.js';

/**
 * The property suite over hostile documents, one AsyncAPI version per test file (so that the two
 * files run on both cores). Each document merges `casesPerDocument` independent cases (channels,
 * operations, messages and schemas with hostile names and texts); all documents of a run are
 * generated in process, scanned, and compiled as ONE TypeScript program.
 *
 * Replay or explore: HOSTILE_SEED (fast-check seed), HOSTILE_DOCUMENTS, HOSTILE_CASES_PER_DOCUMENT
 * (bench/fuzz/run.mjs runs many seeds). Every document stays on disk under .cache/test-runs/.
 */

export interface SuiteOptions {
  version: AsyncApiVersion;
  documents: number;
  casesPerDocument: number;
  seed: number;
}

export function suiteOptions(version: AsyncApiVersion, documents: number, seed: number): SuiteOptions {
  const env = process.env;
  return {
    version,
    documents: env.HOSTILE_DOCUMENTS ? Number(env.HOSTILE_DOCUMENTS) : documents,
    casesPerDocument: env.HOSTILE_CASES_PER_DOCUMENT ? Number(env.HOSTILE_CASES_PER_DOCUMENT) : 20,
    seed: env.HOSTILE_SEED ? Number(env.HOSTILE_SEED) : seed,
  };
}

interface SuiteRun {
  results: DocumentResult[];
  dir: string;
  compileOther: string[];
}

const SHOWN = 8;

function report(run: SuiteRun, options: SuiteOptions, kind: ProblemKind): string {
  const failing = run.results.filter((r) => r.problems.some((p) => p.kind === kind));
  if (failing.length === 0) return '';
  const lines = [`${failing.length} of ${run.results.length} documents (seed ${options.seed}; replay: HOSTILE_SEED=${options.seed}):`];
  for (const result of failing.slice(0, SHOWN)) {
    const problems = result.problems.filter((p) => p.kind === kind);
    lines.push(`- ${result.file}: ${problems.length} problem(s)`);
    for (const problem of problems.slice(0, 4)) lines.push(`    ${problem.message.slice(0, 600)}`);
  }
  return lines.join('\n');
}

export function hostileSuite(options: SuiteOptions): void {
  describe(`hostile AsyncAPI ${options.version} documents: ${options.documents} documents of ${options.casesPerDocument} cases, targets ${TARGETS.join(', ')}`, () => {
    let run: SuiteRun;

    beforeAll(async () => {
      const dir = freshDir(`hostile-${options.version}`);
      const cache = memoryCache();
      const reference = await buildReference(dir, cache);
      const documents = [
        ...fc.sample(hostileDocumentOfCases(options.version, options.casesPerDocument, reference.exportedNames), { numRuns: options.documents, seed: options.seed }),
        ...refPlacementDocuments(options.version),
      ];
      const results: DocumentResult[] = [];
      for (const [index, doc] of documents.entries()) results.push(await runDocument(index, doc, dir, reference, cache));
      const compiled = await compileBatch(dir, reference, results);
      for (const result of results) {
        for (const message of compiled.byDocument.get(result.index) ?? []) result.problems.push({ kind: 'compile', message });
        if (result.out && !compiled.byDocument.has(result.index)) {
          for (const message of await checkFidelity(dir, compiled.emitDir, result)) result.problems.push({ kind: 'fidelity', message });
        }
      }
      run = { results, dir: path.relative(ROOT, dir), compileOther: compiled.other };
    }, 1_800_000);

    const placementCases = 2 * Object.keys(placements(() => null)).length;
    it(`checks at least ${options.documents * options.casesPerDocument + placementCases} cases`, () => {
      expect(run.results).toHaveLength(options.documents + 2);
      expect(run.results.reduce((sum, r) => sum + r.doc.cases, 0)).toBe(options.documents * options.casesPerDocument + placementCases);
    });

    it(`takes a $ref under every keyword, known and unknown, in the document and in another file (${placementCases} cases): no internal error, and a warning where a schema sits under no keyword`, () => {
      const placed = run.results.slice(options.documents);
      for (const result of placed) {
        expect(result.problems.filter((p) => p.kind === 'generation')).toEqual([]);
        const warnings = result.diagnostics.filter((d) => d.code === 'W_SCHEMA_UNKNOWN_KEYWORD');
        expect(warnings.map((d) => d.location?.pointer.split('/').at(-2)).sort()).toEqual([...MISTAKEN_PLACEMENTS].sort());
        expect(warnings.every((d) => d.location?.file.endsWith(path.basename(result.file)) && d.location.line !== undefined)).toBe(true);
      }
    });

    it('generates every document for every target (no refusal of a valid document, no internal error)', () => {
      expect(report(run, options, 'generation')).toBe('');
    });

    it('hands out unique, plain identifiers, and a client method per operation on every target', () => {
      expect(report(run, options, 'names')).toBe('');
    });

    it('keeps document text inside string literals, property keys and comments; comments stay closed and carry no compiler directive', () => {
      expect(report(run, options, 'scan')).toBe('');
    });

    it('writes no raw invisible, control or bidirectional character (Trojan Source) into the code it renders', () => {
      expect(report(run, options, 'invisible')).toBe('');
    });

    it('writes none either into types.ts and the compiled validators (written by json-schema-to-typescript and ajv)', () => {
      expect(report(run, options, 'invisible-tools')).toBe('');
    });

    it('compiles with tsc --strict, all outputs as one program', () => {
      expect(run.compileOther.slice(0, 20).join('\n')).toBe('');
      expect(report(run, options, 'compile')).toBe('');
    });

    it('runs: the emitted literals are the document strings, exactly', () => {
      expect(report(run, options, 'fidelity')).toBe('');
    });
  });
}
