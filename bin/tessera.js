#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli by `npm run build` (run by `npm ci`).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli')) {
    console.error('tessera: the build output is missing; run `npm run build` (or `npm ci`) first.');
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
