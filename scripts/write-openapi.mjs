#!/usr/bin/env node
// Writes the committed copy of the OpenAPI document (openapi.json at the repo root) from
// the compiled schemas. Run `npm run openapi` after changing src/schema/api.ts;
// test/openapi.test.ts fails while the copy is stale.
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../dist/http/openapi.js';

const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log('wrote openapi.json');
