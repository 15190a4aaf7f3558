import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The templates shipped with the tool: `<package>/templates` (the same path from src/ and dist/). */
export const BUILTIN_TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates');
