#!/usr/bin/env node
// A thin binary: `run(argv)` returns the exit code. `--version` is answered before loading the CLI,
// so version checks in scripts cost only Node's own start-up.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  process.stdout.write(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
} else {
  // Before any CommonJS module loads: compiled code is reused across runs (dist/cli/compile-cache.js).
  const { installCliCompileCache } = await import('../dist/cli/compile-cache-setup.js');
  installCliCompileCache(process.cwd(), process.env, argv);
  const { run } = await import('../dist/cli/run.js');
  process.exitCode = await run(argv);
}
