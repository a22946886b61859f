// The published OpenAPI document: the API's own document for the example config, with agent identity and receipts,
// committed at schema/openapi.json so client generators (and packages/client) build from a file in the repository.
import { EXAMPLE_CONFIG_PATH, loadConfigFile } from '../config/load';
import { buildOpenApiDocument } from '../http/openapi';

/** Where the generated document is committed, relative to the repository root. */
export const OPENAPI_DOCUMENT_PATH = 'schema/openapi.json';

/** The document a default deployment serves at /openapi.json (example catalog, identity and receipts on). */
export function publishedOpenApiDocument(): Record<string, unknown> {
  const { config } = loadConfigFile(EXAMPLE_CONFIG_PATH);
  return buildOpenApiDocument({ config, identity: true, receipts: true });
}
