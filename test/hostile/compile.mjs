// One `tsc --strict` program over many generated outputs (run as a child process by harness.ts):
//   node compile.mjs <tsconfig.json>
// It is the TypeScript compiler with the options of the config, plus one thing: a module reached
// through a symbolic link is the file it links to. Files a generated output shares byte for byte
// with the reference output are links to it, so each distinct file is parsed and checked once.
// (tsc itself resolves links only inside node_modules.) Prints diagnostics as tsc does; exit 1 on any.
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const configPath = path.resolve(process.argv[2]);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const { options, errors } = ts.convertCompilerOptionsFromJson(config.compilerOptions, path.dirname(configPath));
if (errors.length > 0) {
  console.log(ts.formatDiagnostics(errors, formatHost()));
  process.exit(2);
}
const host = ts.createCompilerHost(options);
const cache = ts.createModuleResolutionCache(host.getCurrentDirectory(), (name) => name, options);
const linked = new Map();

function throughLink(file) {
  let target = linked.get(file);
  if (target === undefined) {
    target = lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ? realpathSync(file) : file;
    linked.set(file, target);
  }
  return target;
}

host.resolveModuleNameLiterals = (literals, containingFile, redirected, compilerOptions, sourceFile) =>
  literals.map((literal) => {
    const mode = ts.getModeForUsageLocation(sourceFile, literal, compilerOptions);
    const result = ts.resolveModuleName(literal.text, containingFile, compilerOptions, host, cache, redirected, mode);
    const module = result.resolvedModule;
    if (module && !module.isExternalLibraryImport) {
      const target = throughLink(module.resolvedFileName);
      if (target !== module.resolvedFileName) return { ...result, resolvedModule: { ...module, resolvedFileName: target } };
    }
    return result;
  });

function formatHost() {
  return { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
}

const program = ts.createProgram({ rootNames: config.files, options, host });
const diagnostics = [...ts.getPreEmitDiagnostics(program)];
if (!options.noEmit) diagnostics.push(...program.emit().diagnostics);
if (diagnostics.length > 0) {
  process.stdout.write(ts.formatDiagnostics(diagnostics, formatHost()));
  process.exit(1);
}
