import path from 'node:path';
import { PACKAGE_ROOT } from '../package-paths.js';

/** The templates shipped with the tool: `<package>/templates` (the same path from src/ and dist/). */
export const BUILTIN_TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');

/** The run-time source copied into generated output: `<package>/runtime` (see runtime-source.ts). */
export const BUILTIN_RUNTIME_DIR = path.join(PACKAGE_ROOT, 'runtime');
