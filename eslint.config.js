// Flat config: typescript-eslint's recommended rules over every workspace.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // cloud/dist/: the console bundle built by esbuild (npm run build:console), not source.
  { ignores: ['**/node_modules/**', '**/data/**', 'docs/**', '.ci/**', 'protocol/schema/**', 'cloud/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Small functions with one job each (issue #16): the production code of the two apps.
    files: ['cloud/src/**/*.ts', 'edge/src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Node-RED loads nodes as CommonJS.
    files: ['node-red/nodes/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', fetch: 'readonly', AbortController: 'readonly', URLSearchParams: 'readonly' } },
    // `const node = this` is Node-RED's idiom for handlers that outlive the constructor.
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    files: ['cloud/src/console/public/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', io: 'readonly', fetch: 'readonly', navigator: 'readonly' } },
  },
);
