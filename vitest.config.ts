// Two projects: `node` (tests/**/*.test.ts) and `browser` (tests/browser/**/*.browser.test.ts in
// headless Debian Chromium, served from localhost so that navigator.gpu exists).
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { chromiumArgs, chromiumPath } from './tests/helpers/chromium.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/browser/**', 'node_modules/**'],
          environment: 'node',
          pool: 'forks',
          // static/data/*.bin (git-ignored) for the page tests
          globalSetup: ['tests/setup/test-data.ts'],
        },
      },
      {
        extends: true,
        plugins: [svelte({ configFile: false })],
        // Pre-bundled up front: discovering them mid-run makes Vite reload the page.
        optimizeDeps: {
          include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'],
        },
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.browser.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
