import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

const FORBIDDEN_MODULE = /^(node:|fs$|path$|os$|crypto$|child_process$|net$|http|worker_threads$|ink|react|kafkajs|pg$|better-sqlite3|zustand|yargs)/;

describe('src/engine is pure', () => {
  it.each(files)('%s imports no I/O or UI module and nothing outside src/engine', (file) => {
    const src = readFileSync(join(dir, file), 'utf8');
    const specs = [...src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)]
      .map((m) => m[1] ?? m[2] ?? m[3]!);
    for (const s of specs) {
      expect(s, `${file} imports ${s}`).not.toMatch(FORBIDDEN_MODULE);
      if (s.startsWith('.')) expect(s, `${file} imports ${s}`).toMatch(/^\.\/[^/]+$/);
      else expect.fail(`${file} imports package ${s}`);
    }
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code, file).not.toMatch(/Math\.random|Date\.now|randomUUID|setTimeout|setInterval|setImmediate|process\./);
  });

  it('the check sees every engine file', () => {
    expect(files).toEqual(expect.arrayContaining(['engine.ts', 'random.ts', 'uuid.ts', 'event-heap.ts', 'fixtures-check.ts']));
  });
});
