// Shared by the broker throughput scripts (bench/<broker>/throughput.mjs, bench/observability/).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Generates `document` for `targets` into `<work>/out` with the built binary and compiles it with
 * `tsc --strict` into `<work>/js`; returns that folder (its index.js is the generated root module).
 */
export function buildGenerated({ work, targets, document = 'fixtures/example/asyncapi.yaml', flags = [] }) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const out = path.join(work, 'out');
  execFileSync(process.execPath, [path.join(ROOT, 'bin/codegen.js'), 'generate', path.join(ROOT, document), '--target', targets.join(','), '--out', out, ...flags], { stdio: 'inherit' });
  const tsconfig = {
    compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', outDir: path.join(work, 'js'), skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] },
    include: [path.join(out, '**/*.ts')],
  };
  writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify(tsconfig));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(work, 'tsconfig.json')], { stdio: 'inherit' });
  return path.join(work, 'js');
}

/** Calls `publishOne(i)` for i < total with at most `window` unconfirmed; resolves when all are confirmed. */
export function pump(publishOne, total, window) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let confirmed = 0;
    const launch = () => {
      while (next < total && next - confirmed < window) {
        publishOne(next++).then(() => {
          confirmed++;
          if (confirmed === total) resolve();
          else launch();
        }, reject);
      }
    };
    launch();
  });
}
