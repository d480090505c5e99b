import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The engine is pure: no I/O, no UI, no clock, no ambient randomness (DESIGN.md, STYLE.md).
    files: ['src/engine/**/*.ts'],
    ignores: ['src/engine/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'worker_threads'], message: 'src/engine is pure: no Node I/O modules.' },
          { group: ['ink', 'react', 'kafkajs', 'pg', 'better-sqlite3', 'zustand', 'yargs'], message: 'src/engine is pure: no I/O or UI libraries.' },
          { group: ['**/kafka/**', '**/db/**', '**/ui/**', '**/cli/**', '**/pipeline/**'], message: 'src/engine imports nothing from kafka, db, ui, cli or pipeline.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'The engine sets no timers.' },
        { name: 'setInterval', message: 'The engine sets no timers.' },
        { name: 'process', message: 'The engine does no I/O.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Use the seeded generator.' },
        { object: 'Date', property: 'now', message: 'Use the simulated clock.' },
        { object: 'crypto', property: 'randomUUID', message: 'Ids come from the seeded generator.' },
      ],
    },
  },
);
