import { defineConfig } from 'vite';

// Served by the gateway under /console/; file names carry content hashes, so assets can be cached for a year.
export default defineConfig({
  base: '/console/',
  root: 'app',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
});
