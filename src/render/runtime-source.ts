import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Renderer } from './renderer.js';
import { BUILTIN_RUNTIME_DIR } from './paths.js';

/** A run-time file for the output: its path there, its text, and whether it still needs prettier. */
export interface RuntimeFile {
  path: string;
  content: string;
  format: boolean;
}

/**
 * The generated run-time that does not depend on the document: ordinary TypeScript in `runtime/`
 * (type-checked and tested like src/, already formatted), copied verbatim behind the generated
 * header. `runtime/<name>.ts` is shared by every broker; `runtime/<broker>/<name>.ts` ships with
 * its target. A user's template folder overrides a file by its output path: `runtime/x.ts` (plain
 * TypeScript, copied) or `runtime/x.ts.hbs` (a template, rendered with the core view).
 */
export interface RuntimeSource {
  /** Every file of one run-time folder: '' for the shared files, else a target name. */
  folder(name: string, view: { headerComment: string }): RuntimeFile[];
}

export function createRuntimeSource(renderer: Renderer, overrideDir?: string): RuntimeSource {
  return {
    folder(name, view) {
      return runtimeFileNames(name).map((relative) => {
        const outputPath = path.posix.join('runtime', relative);
        const override = overrideDir ? path.join(overrideDir, outputPath) : undefined;
        if (override && existsSync(`${override}.hbs`)) {
          return { path: outputPath, content: renderer.render(`${outputPath}.hbs`, view), format: true };
        }
        const header = `/**\n * ${view.headerComment}\n */\n`;
        if (override && existsSync(override)) {
          return { path: outputPath, content: header + readFileSync(override, 'utf8'), format: true };
        }
        return { path: outputPath, content: header + readBuiltin(relative), format: false };
      });
    },
  };
}

/** The `.ts` files directly in `runtime/<folder>` (sub-folders are other targets), sorted. */
function runtimeFileNames(folder: string): string[] {
  const dir = path.join(BUILTIN_RUNTIME_DIR, folder);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.posix.join(folder, entry.name))
    .sort();
}

const builtinText = new Map<string, string>();

function readBuiltin(relative: string): string {
  let text = builtinText.get(relative);
  if (text === undefined) {
    text = readFileSync(path.join(BUILTIN_RUNTIME_DIR, relative), 'utf8');
    builtinText.set(relative, text);
  }
  return text;
}
