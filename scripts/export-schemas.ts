/**
 * Writes the JSON Schema files in schemas/ from the zod schemas in src/pipeline/schemas.ts.
 * Run after changing a schema: `npx tsx scripts/export-schemas.ts` (a test fails while they differ).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemaFiles } from '../src/pipeline/schemas.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(renderJsonSchemaFiles())) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote schemas/${name}`);
}
