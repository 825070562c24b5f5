import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@remotegpu/source'] },
  ssr: { resolve: { conditions: ['@remotegpu/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'services/*/src/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests that load onnxruntime themselves (testkit's model checks) must not write its telemetry to ~/.cache
    // and the temp dir either (see core's ONNXRUNTIME_ENV; the platform and the model server set it on their own).
    env: { ORT_DISABLE_TELEMETRY: '1' },
  },
});
