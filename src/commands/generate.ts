import path from 'node:path';
import type { CliIO } from '../cli/io.js';
import type { Role } from '../model/role.js';
import { checkTargets } from '../pipeline/generate.js';
import { openProjectCache, runEntry, type GenerateJob } from '../run/entry.js';
import { reportRun, type RunOutcome } from '../run/report.js';

export interface GenerateFlags {
  target: string;
  out: string;
  templates?: string;
  source?: string;
  role: Role;
  /** commander's `--no-validation` sets this to false. */
  validation: boolean;
  check: boolean;
  dryRun: boolean;
  json: boolean;
  allowRemoteRefs: boolean;
  allowOutsideRefs: boolean;
  allowSymlinkedOut: boolean;
  /** commander's `--no-cache` sets this to false. */
  cache: boolean;
}

/**
 * `codegen generate <document>`: one job, run and reported exactly as an entry of the config is
 * (src/run/), so both say the same things in the same words and the same JSON.
 */
export async function generateCommand(document: string, flags: GenerateFlags, io: CliIO): Promise<number> {
  const started = performance.now();
  const targets = flags.target.split(',').map((t) => t.trim()).filter(Boolean);
  checkTargets(targets);
  const job: GenerateJob = {
    document: path.resolve(io.cwd, document),
    out: path.resolve(io.cwd, flags.out),
    targets,
    templates: flags.templates ? path.resolve(io.cwd, flags.templates) : undefined,
    source: flags.source,
    role: flags.role,
    validation: flags.validation,
    allowRemoteRefs: flags.allowRemoteRefs,
    allowOutsideRefs: flags.allowOutsideRefs,
    allowSymlinkedOut: flags.allowSymlinkedOut,
  };
  const mode = flags.check ? 'check' : flags.dryRun ? 'dry-run' : 'write';
  const result = await runEntry(job, { mode, cache: openProjectCache(flags, io), cwd: io.cwd });
  const outcome: RunOutcome = { mode, results: [result], compatibility: [], elapsedMs: Math.round(performance.now() - started), rerun: 'codegen generate' };
  return reportRun(outcome, flags.json ? 'json' : 'text', io);
}
