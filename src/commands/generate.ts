import path from 'node:path';
import { colours, type CliIO } from '../cli/io.js';
import { ExitCode, formatDiagnostic } from '../errors.js';
import type { Role } from '../model/role.js';
import { checkTargets, generateFiles } from '../pipeline/generate.js';
import { applyOutput, planOutput, type OutputPlan } from '../write/output.js';
import { generatorVersion } from '../version.js';
import { defaultCacheDir, openCache, readOnlyCache } from '../cache/cache.js';
import { SHIPPED_FORMAT_CACHE } from '../format/prettier.js';

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

export async function generateCommand(document: string, flags: GenerateFlags, io: CliIO): Promise<number> {
  const started = performance.now();
  const targets = flags.target.split(',').map((t) => t.trim()).filter(Boolean);
  checkTargets(targets);
  const result = await generateFiles({
    document,
    targets,
    templatesDir: flags.templates ? path.resolve(io.cwd, flags.templates) : undefined,
    eventSource: flags.source,
    role: flags.role,
    validation: flags.validation,
    load: { allowRemoteRefs: flags.allowRemoteRefs, allowOutsideRefs: flags.allowOutsideRefs, cwd: io.cwd },
    cache: flags.cache && io.env.CODEGEN_CACHE !== '0' ? openCache(defaultCacheDir(io.cwd, io.env), [SHIPPED_FORMAT_CACHE]) : readOnlyCache([SHIPPED_FORMAT_CACHE]),
  });
  for (const diagnostic of result.diagnostics) io.stderr(formatDiagnostic(diagnostic) + '\n');
  const outDir = path.resolve(io.cwd, flags.out);
  const options = { generatorVersion: generatorVersion(), protectedPaths: [path.resolve(io.cwd, document)], allowSymlinkedOut: flags.allowSymlinkedOut };
  const plan = await planOutput(outDir, result.files, options);
  const elapsed = Math.round(performance.now() - started);
  if (flags.check) return report(plan, 'check', elapsed, flags, io);
  if (flags.dryRun) return report(plan, 'dry-run', elapsed, flags, io);
  await applyOutput(plan, result.files, options);
  return report(plan, 'write', elapsed, flags, io);
}

function report(plan: OutputPlan, mode: 'write' | 'check' | 'dry-run', elapsedMs: number, flags: GenerateFlags, io: CliIO): number {
  const c = colours(io);
  const stale = plan.written.length + plan.removed.length;
  const shown = path.relative(io.cwd, plan.outDir) || '.';
  if (flags.json) {
    io.stdout(JSON.stringify({ mode, outDir: shown, written: plan.written, unchanged: plan.unchanged, removed: plan.removed, upToDate: stale === 0, elapsedMs }, null, 2) + '\n');
  }
  if (mode === 'check') {
    for (const file of plan.written) io.stderr(`${c.yellow('stale')}   ${path.join(shown, file)}\n`);
    for (const file of plan.removed) io.stderr(`${c.yellow('extra')}   ${path.join(shown, file)}\n`);
    io.stderr(stale === 0 ? `${c.green('✔')} ${shown} is up to date (${plan.unchanged.length} files)\n` : `${c.red('✖')} ${stale} generated file(s) in ${shown} are out of date; run codegen generate\n`);
    return stale === 0 ? ExitCode.ok : ExitCode.findings;
  }
  const verb = mode === 'dry-run' ? 'would write' : 'wrote';
  if (mode === 'dry-run') {
    for (const file of plan.written) io.stderr(`write   ${path.join(shown, file)}\n`);
    for (const file of plan.removed) io.stderr(`remove  ${path.join(shown, file)}\n`);
  }
  io.stderr(`${c.green('✔')} ${verb} ${plan.written.length} file(s) to ${shown}, ${plan.unchanged.length} unchanged, ${plan.removed.length} ${mode === 'dry-run' ? 'to remove' : 'removed'} (${elapsedMs} ms)\n`);
  return ExitCode.ok;
}
