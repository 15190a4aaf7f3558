// Runs one command as a whole process and measures it:
//   wall   elapsed time from spawn to exit, measured here (performance.now), in ms;
//   cpu    user + system CPU time of the process (and children it waited for), in ms;
//   rss    peak resident memory of the process, in MB (GNU time's %M, the largest single process).
// CPU time and peak memory come from `/usr/bin/time -f '%e %U %S %M'`; without it the run is
// measured for wall time only (cpu and rss are null, and RESULTS.md says so).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const GNU_TIME = '/usr/bin/time';
export const HAS_GNU_TIME = existsSync(GNU_TIME);

let counter = 0;
/** Processes started here and still running: stopped if the harness is interrupted. */
const live = new Set();

/** Stops every process group this module started that is still running (on Ctrl-C). */
export function stopAll() {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/**
 * @param {{cmd: string, args: string[], cwd: string, env?: Record<string,string>, timeoutMs?: number}} command
 * @returns {Promise<{wall: number, cpu: number|null, rss: number|null, code: number|null, signal: string|null, timedOut: boolean, stdout: string, stderr: string}>}
 */
export function measure({ cmd, args, cwd, env = {}, timeoutMs = 600_000 }) {
  const timeFile = path.join(os.tmpdir(), `codegen-bench-time-${process.pid}-${counter++}`);
  const [file, argv] = HAS_GNU_TIME ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    const stdout = [];
    const stderr = [];
    const started = performance.now();
    // Its own process group, so a timeout can stop the tool and anything it started.
    const child = spawn(file, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child.pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    child.on('close', (code, signal) => {
      const wall = performance.now() - started;
      clearTimeout(timer);
      live.delete(child.pid);
      let cpu = null;
      let rss = null;
      if (HAS_GNU_TIME) {
        try {
          // GNU time writes "Command exited with non-zero status N" before the figures.
          const last = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(/\s+/).map(Number);
          if (last.length === 4 && last.every(Number.isFinite)) {
            cpu = (last[1] + last[2]) * 1000;
            rss = last[3] / 1024;
          }
        } catch {
          // killed before GNU time could write
        }
        rmSync(timeFile, { force: true });
      }
      resolve({ wall, cpu, rss, code, signal, timedOut, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** The system's 1, 5 and 15 minute load averages, rounded. */
export function loadAverage() {
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}
