import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // expect(...).toEqualBytes(...) for every test file.
    setupFiles: ['test/setup/bytes.ts'],
    testTimeout: 60_000,
  },
});
