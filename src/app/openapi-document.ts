// The published OpenAPI document: the API's own document for the example config, with agent identity and receipts,
// committed at schema/openapi.json so client generators (and packages/client) build from a file in the repository.
import type openapiTypescript from 'openapi-typescript';
import type { astToString as astToStringFn } from 'openapi-typescript';
import { EXAMPLE_CONFIG_PATH, loadConfigFile } from '../config/load';
import { buildOpenApiDocument } from '../http/openapi';

/** Where the generated document is committed, relative to the repository root. */
export const OPENAPI_DOCUMENT_PATH = 'schema/openapi.json';

/** The document a default deployment serves at /openapi.json (example catalog, identity and receipts on). */
export function publishedOpenApiDocument(): Record<string, unknown> {
  const { config } = loadConfigFile(EXAMPLE_CONFIG_PATH);
  return buildOpenApiDocument({ config, identity: true, receipts: true });
}

/** Where the client package's types, generated from the document by openapi-typescript, are committed. */
export const CLIENT_TYPES_PATH = 'packages/client/src/generated/openapi.ts';

type OpenApiTs = typeof openapiTypescript;
type AstToString = typeof astToStringFn;

/** The client's types for the published document (openapi-typescript passed in: it is a dev dependency). */
export async function clientTypesText(openapiTS: OpenApiTs, astToString: AstToString): Promise<string> {
  const ast = await openapiTS(publishedOpenApiDocument() as unknown as Parameters<OpenApiTs>[0], {
    alphabetize: true,
    exportType: false,
  });
  return `// Generated from schema/openapi.json by openapi-typescript (\`npm run generate\`); do not edit.\n${astToString(ast)}`;
}
