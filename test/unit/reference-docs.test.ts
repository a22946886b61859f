// The generated references in docs/reference/ match the code: a new setting, CLI option or HTTP route without
// `npm run generate` fails here, as does a hand edit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../src/app/core';
import { REFERENCE_DOCS } from '../../src/app/reference-docs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = loadCore({ COUNTERSIGN_CONFIG: undefined }).config;

describe('generated references', () => {
  it.each(Object.keys(REFERENCE_DOCS))('when %s is read, then it is what the code generates today', (path) => {
    const committed = readFileSync(`${root}${path}`, 'utf8');
    expect(committed, `${path} is stale: run \`npm run generate\` and commit the result`).toBe(
      REFERENCE_DOCS[path]!(config),
    );
  });

  it('when the CLI reference is generated, then it lists every exit code and the commands of this issue', () => {
    const cli = REFERENCE_DOCS['docs/reference/cli.md']!(config);
    for (const code of ['| 0 |', '| 1 |', '| 2 |', '| 3 |', '| 4 |', '| 5 |']) expect(cli).toContain(code);
    for (const command of ['### `requests cancel`', '### `reject`', '### `completion`', '### `config validate`']) {
      expect(cli).toContain(command);
    }
    expect(cli).toMatch(/`--reason <text>` \| why \(required\)[^|]*\(required\)/);
  });

  it('when the HTTP reference is generated, then it has the stable routes', () => {
    const http = REFERENCE_DOCS['docs/reference/http.md']!(config);
    for (const route of ['`/v1/action-requests`', '`/v1/action-requests/{id}/cancel`', '`/oauth/token`']) {
      expect(http).toContain(route);
    }
  });
});
