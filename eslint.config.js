// Strict lint: typed rules, no floating promises, type-only imports, no import cycles, and a sandbox for workflows/.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.countersign/**', 'bin/**', 'test/replay/histories/**', 'packages/*/dist/**', 'packages/client/src/generated/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      // Interface implementations often return a promise without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      'no-console': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Workflow code is deterministic and bundled into the sandbox: no Node built-ins, no SDK clients, no zod.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules.map((name) => ({ name, message: 'Node built-ins do not belong in workflow code.' })),
            ...['@temporalio/activity', '@temporalio/client', '@temporalio/worker', 'zod', 'pino', 'express'].map((name) => ({
              name,
              message: 'Not allowed in the workflow sandbox.',
            })),
          ],
          patterns: [{ group: ['node:*'], message: 'Node built-ins do not belong in workflow code.' }],
        },
      ],
    },
  },
  // Plain-JavaScript scripts that run before any build (the prestart stale check): linted without type information.
  { files: ['scripts/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'src/cli/**/*.ts', 'examples/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
