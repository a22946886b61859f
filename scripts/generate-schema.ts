// Regenerates what is derived from the code: the config's JSON Schema (schema/countersign.config.schema.json), the
// published OpenAPI document (schema/openapi.json) and the client's types generated from it, .env.example, and the
// references in docs/reference/ (settings from zod, the CLI from commander, HTTP from the OpenAPI document).
// test/unit/schema.test.ts, test/unit/openapi.test.ts and test/unit/reference-docs.test.ts fail when any is stale.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchema } from '../src/app/config-json-schema';
import { loadCore } from '../src/app/core';
import {
  CLIENT_TYPES_PATH,
  OPENAPI_DOCUMENT_PATH,
  clientTypesText,
  publishedOpenApiDocument,
} from '../src/app/openapi-document';
import { REFERENCE_DOCS } from '../src/app/reference-docs';
import { envExampleText } from '../src/app/settings-docs';

const root = fileURLToPath(new URL('..', import.meta.url));

async function pretty(path: string, text: string): Promise<string> {
  const options = (await resolveConfig(path)) ?? {};
  return format(text, { ...options, filepath: path });
}

const files = [
  { path: CONFIG_JSON_SCHEMA_PATH, content: JSON.stringify(configJsonSchema(), null, 2), format: true },
  { path: OPENAPI_DOCUMENT_PATH, content: JSON.stringify(publishedOpenApiDocument(), null, 2), format: true },
  { path: CLIENT_TYPES_PATH, content: await clientTypesText(openapiTS, astToString), format: true },
  { path: '.env.example', content: envExampleText(), format: false },
  ...Object.entries(REFERENCE_DOCS).map(([path, generate]) => ({
    path,
    content: generate(loadCore({ COUNTERSIGN_CONFIG: undefined }).config),
    format: false,
  })),
];

for (const file of files) {
  const target = join(root, file.path);
  const content = file.format ? await pretty(target, file.content) : file.content;
  if (existsSync(target) && readFileSync(target, 'utf8') === content) continue;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  process.stdout.write(`wrote ${file.path}\n`);
}
