// Component tests of the console (`npm run test:ui`): Vitest in happy-dom, JSX for Preact.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('./', import.meta.url)),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  test: { environment: 'happy-dom', include: ['**/*.test.tsx'], exclude: ['**/node_modules/**', 'map/**/node_modules/**'] },
});
