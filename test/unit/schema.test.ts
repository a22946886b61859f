import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchema } from '../../src/app/config-json-schema';
import { envExampleText, settingsReference } from '../../src/app/settings-docs';
import { EXAMPLE_CONFIG_PATH } from '../../src/config/load';
import { settingsSchema } from '../../src/config/settings';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const STALE = 'stale: run `npm run generate` and commit the result';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(read(CONFIG_JSON_SCHEMA_PATH)) as object);
}

/** Table rows as trimmed cells, so Prettier's column padding does not count as a change. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

describe('generated schema and settings documentation', () => {
  it('when the zod config schema changes, then the committed JSON Schema must be regenerated', () => {
    const committed = JSON.parse(read(CONFIG_JSON_SCHEMA_PATH)) as unknown;
    expect(committed, `${CONFIG_JSON_SCHEMA_PATH} is ${STALE}`).toEqual(configJsonSchema());
  });

  it('when the example config is checked against the published JSON Schema, then it is valid', () => {
    const validate = validator();
    const example = parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as unknown;
    const ok = validate(example);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('when a config has an unknown key and a bad risk tier, then the JSON Schema rejects both with their paths', () => {
    const validate = validator();
    const bad = parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as {
      actions: Record<string, Record<string, unknown>>;
      surprise?: boolean;
    };
    bad.surprise = true;
    bad.actions['payments.refund']!.risk = 'extreme';
    expect(validate(bad)).toBe(false);
    const where = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
    expect(where.some((w) => w.startsWith(' must NOT have additional properties'))).toBe(true);
    expect(where.some((w) => w.startsWith('/actions/payments.refund/risk'))).toBe(true);
  });

  it('when settings change, then .env.example lists every settings key with its description', () => {
    const text = read('.env.example');
    expect(text, `.env.example is ${STALE}`).toBe(envExampleText());
    for (const key of Object.keys(settingsSchema.shape)) expect(text).toContain(`# ${key}=`);
  });

  it('when settings change, then the settings reference table names every key with its description and default', () => {
    const reference = read('docs/reference/settings.md');
    const [header, ...rows] = tableRows(reference.slice(reference.indexOf('| Variable')));
    expect(header).toEqual(['Variable', 'Default', 'Description']);
    const expected = settingsReference().map((s) => [
      `\`${s.name}\``,
      s.default !== undefined ? `\`${s.default}\`` : '',
      s.description.replace(/\|/g, '\\|'),
    ]);
    expect(rows, `docs/reference/settings.md is ${STALE}`).toEqual(expected);
  });
});
