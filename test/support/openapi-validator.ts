// Checks HTTP answers against the OpenAPI document the API serves: the status must be declared for the operation, the
// media type declared for that status, and a JSON body must match its schema. The shared HTTP test helper runs every
// answer through it, so a route that drifts from its document fails the suite that exercises it.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const DOC_ID = 'openapi';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** One answer to check. */
export interface ObservedResponse {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  contentType: string | null;
  /** The parsed JSON body, when the answer was JSON. */
  json: unknown;
  text: string;
}

/** Validates answers against one OpenAPI 3.1 document. */
export interface ResponseValidator {
  /** Every way the answer departs from the document; empty when it fits (or the route is not documented). */
  check(response: ObservedResponse): string[];
}

/** Builds a validator over an OpenAPI 3.1 document (as served at /openapi.json). */
export function createResponseValidator(document: Json): ResponseValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: DOC_ID });
  const paths = Object.entries((document.paths ?? {}) as Record<string, Json>).map(([template, item]) => ({
    template,
    item,
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
  }));
  const compiled = new Map<string, ValidateFunction>();

  const resolve = (value: Json): Json => {
    const ref = value.$ref;
    if (typeof ref !== 'string') return value;
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>(
        (node, part) => (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
        document,
      );
    return resolve((target ?? {}) as Json);
  };

  return {
    check(r) {
      const method = r.method.toLowerCase();
      if (!METHODS.has(method)) return [];
      // A literal path wins over a template (/v1/agents/{id} vs a fixed sibling), as in the router.
      const match =
        paths.find((p) => p.template === r.path) ?? paths.find((p) => p.pattern.test(r.path) && p.item[method]);
      const operation = match?.item[method] as Json | undefined;
      if (!match || !operation) return [];
      const where = `${method.toUpperCase()} ${match.template} → ${r.status}`;
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      const declared =
        responses[String(r.status)] ?? responses[`${String(r.status)[0]}XX`] ?? responses.default ?? undefined;
      if (!declared) return [`${where}: status not declared (declared: ${Object.keys(responses).join(', ')})`];
      const response = resolve(declared);
      const content = response.content as Record<string, Json> | undefined;
      if (!content || r.text === '') return content && r.text === '' ? [`${where}: empty body, content declared`] : [];
      const mediaType = (r.contentType ?? '').split(';')[0]?.trim() ?? '';
      const media = content[mediaType];
      if (!media) return [`${where}: media type "${mediaType}" not declared (${Object.keys(content).join(', ')})`];
      if (!/json/.test(mediaType) || !media.schema) return [];
      const pointer = pointerOf(declared, r.status, match.template, method, responses, mediaType);
      let validate = compiled.get(pointer);
      if (!validate) {
        validate = ajv.getSchema(`${DOC_ID}#${pointer}`);
        if (!validate) return [`${where}: schema at ${pointer} does not compile`];
        compiled.set(pointer, validate);
      }
      if (validate(r.json)) return [];
      return (validate.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message ?? 'invalid'}`);
    },
  };
}

/** The JSON pointer of a response's schema: under components when the response is a $ref, else inline. */
function pointerOf(
  declared: Json,
  status: number,
  template: string,
  method: string,
  responses: Record<string, Json>,
  mediaType: string,
): string {
  const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  const media = `content/${escape(mediaType)}/schema`;
  if (typeof declared.$ref === 'string') return `${declared.$ref.replace(/^#/, '')}/${media}`;
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k]) ?? String(status);
  return `/paths/${escape(template)}/${method}/responses/${key}/${media}`;
}
