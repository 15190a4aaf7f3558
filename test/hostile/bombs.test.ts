import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, ROOT } from '../helpers/codegen.js';
import { bombDir, BOMBS } from './bombs.js';

/**
 * Resource bombs against the built binary (`bin/codegen.js`, as users run it; `npm test` builds it
 * first), each in its own process under `/usr/bin/time`: every one is refused with its message, or
 * handled, within bounded time and memory: never a hang, never an out-of-memory crash, never a stack
 * trace. Speed is not asserted; a run that does not end within 10 minutes is a hang.
 * With HOSTILE_BOMBS_RESULTS=<file> the measured figures are written there (bench/hostile/run.mjs).
 */

const HANG = 600_000;
/** Refusals must not load the bomb; generation must stay inside Node's default heap (about 4 GB). */
const REFUSAL_MEMORY_MB = 1024;
const GENERATION_MEMORY_MB = 3584;

interface Figure {
  name: string;
  code: number | string;
  seconds: number;
  peakMb: number;
  outcome: string;
}

const figures: Figure[] = [];

function timed(args: string[], cwd: string): Promise<{ code: number | string; stderr: string; seconds: number; peakMb: number }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/time',
      ['-f', 'TIME %e %M', process.execPath, path.join(ROOT, 'bin/codegen.js'), ...args],
      { cwd, timeout: HANG, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', CODEGEN_CACHE: '0' } },
      (error, _stdout, stderr) => {
        const match = /TIME ([\d.]+) (\d+)\s*$/.exec(stderr);
        const killed = error && (error as { killed?: boolean }).killed;
        resolve({
          code: killed ? 'killed (hang)' : error ? ((error as { code?: number }).code ?? -1) : 0,
          stderr: stderr.replace(/(?:Command exited with non-zero status \d+\n)?TIME [\d.]+ \d+\s*$/, ''),
          seconds: match ? Number(match[1]) : NaN,
          peakMb: match ? Math.round(Number(match[2]) / 1024) : NaN,
        });
      },
    );
  });
}

describe('resource bombs (the built binary, one process each)', () => {
  const root = freshDir('hostile-bombs');

  afterAll(() => {
    // The inputs weigh about 200 MB: generated again on every run, never kept.
    rmSync(root, { recursive: true, force: true });
    const file = process.env.HOSTILE_BOMBS_RESULTS;
    if (!file) return;
    const rows = figures.map((f) => `| ${f.name} | ${f.code} | ${f.seconds.toFixed(1)} | ${f.peakMb} | ${f.outcome.replace(/\|/g, '\\|')} |`);
    writeFileSync(file, ['| input | exit | wall s | peak MB | outcome |', '|---|---:|---:|---:|---|', ...rows, ''].join('\n'));
  });

  it.each(BOMBS.map((bomb) => [bomb.name, bomb] as const))('%s', async (_, bomb) => {
    const dir = bombDir(root, bomb.name);
    const document = bomb.write(dir);
    const out = path.join(dir, 'out');
    const result = await timed(['generate', document, '-t', 'rabbitmq,kafka,nats', '-o', out], dir);
    const outcome = result.code === 0 ? 'generated' : (/E_[A-Z_]+: [^\n]*/.exec(result.stderr)?.[0] ?? result.stderr.split('\n').find((l) => l.trim()) ?? '').slice(0, 160);
    figures.push({ name: bomb.name, code: result.code, seconds: result.seconds, peakMb: result.peakMb, outcome });
    expect(result.stderr).not.toMatch(/internal error|heap out of memory|Maximum call stack|\n\s+at /);
    expect(result.code, result.stderr.slice(0, 2000)).toBe(bomb.expect.code);
    if (bomb.expect.code === 1) {
      expect(result.stderr).toMatch(bomb.expect.message);
      expect(existsSync(out)).toBe(false);
      expect(result.peakMb).toBeLessThan(REFUSAL_MEMORY_MB);
    } else {
      expect(existsSync(path.join(out, 'index.ts'))).toBe(true);
      expect(result.peakMb).toBeLessThan(GENERATION_MEMORY_MB);
    }
  }, HANG + 60_000);
});
