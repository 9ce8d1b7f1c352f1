import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // expect(...).toEqualBytes(...) for every test file.
    setupFiles: ['test/setup/bytes.ts'],
    // Workers run dist/: build it first when a source is newer (src/core/thread/entries.ts).
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 60_000,
    // Hot structures check their invariants as they change (src/core/util/invariants.ts).
    env: { COPYLAB_ASSERT: '1' },
  },
});
