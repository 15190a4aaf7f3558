// Where the time goes: runs a command under `node --cpu-prof` and sums the V8 profile's self time
// by function and by area (a package in node_modules, a folder of codegen's dist/, node's own
// internals, GC). Used by bench/run.mjs for the runs whose targets are missed.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { measure } from './measure.mjs';

/** The area a script URL belongs to: "dist/format", "node_modules/prettier", "node:internal", ... */
function areaOf(url, root) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node: built-ins';
  let file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  file = path.relative(root, file);
  const parts = file.split(path.sep);
  if (parts[0] === 'dist' && parts.length > 2) return `codegen ${parts[0]}/${parts[1]}`;
  return parts.slice(0, 2).join('/');
}

/** Self time per function and per area, from one .cpuprofile, in ms (top `limit` each). */
export function summariseProfile(file, root, limit = 12) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const functions = new Map();
  const areas = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const { callFrame } = byId.get(id);
    total += ms;
    const special = ['(garbage collector)', '(program)', '(idle)'].includes(callFrame.functionName);
    const area = special ? callFrame.functionName : callFrame.functionName.startsWith('RegExp:') ? '(regular expressions, run by V8)' : areaOf(callFrame.url, root);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const where = callFrame.url ? `${areaOf(callFrame.url, root).replace(/^codegen /, '')}/${path.basename(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + ms);
  }
  const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, ms]) => ({ name, ms: Math.round(ms), share: total ? ms / total : 0 }));
  return { totalMs: Math.round(total), areas: top(areas), functions: top(functions) };
}

/** Runs `node --cpu-prof <args>` once and summarises the profile. */
export async function profileRun({ root, dir, args, env, timeoutMs }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = await measure({ cmd: process.execPath, args: ['--cpu-prof', '--cpu-prof-dir', dir, ...args], cwd: root, env, timeoutMs });
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return { error: `no profile written (exit ${result.code})`, wall: result.wall };
  // The main thread's profile is the largest when workers write their own.
  const biggest = files.map((f) => path.join(dir, f)).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
  return { ...summariseProfile(biggest, root), wall: result.wall, stderr: result.stderr.slice(-2000), file: path.relative(root, biggest) };
}
