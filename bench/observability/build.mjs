// Generates the bundled example with the CLI (bin/codegen.js, so `npm run build` first) and compiles it
// with tsc --strict to JavaScript under .cache/bench-observability.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WORK = path.join(ROOT, '.cache', 'bench-observability');

/** Returns the folder of the emitted JavaScript. */
export function buildGenerated(targets = ['rabbitmq', 'kafka', 'nats']) {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const out = path.join(WORK, 'out');
  execFileSync(process.execPath, [path.join(ROOT, 'bin/codegen.js'), 'generate', path.join(ROOT, 'fixtures/example/asyncapi.yaml'), '--target', targets.join(','), '--out', out], { stdio: 'inherit' });
  const tsconfig = {
    compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', outDir: path.join(WORK, 'js'), skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] },
    include: [path.join(out, '**/*.ts')],
  };
  writeFileSync(path.join(WORK, 'tsconfig.json'), JSON.stringify(tsconfig));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(WORK, 'tsconfig.json')], { stdio: 'inherit' });
  return path.join(WORK, 'js');
}
