// What approvers see of the parameters: every value whose JSON Schema marks it secret (`writeOnly: true` or
// `x-secret: true`) is replaced before anything leaves the process; values under a schema we cannot follow are too.

/** The placeholder that replaces a secret value. */
export const WITHHELD = '[secret: withheld]';
const UNRESOLVED = '[not shown: schema reference]';
const TOO_DEEP = '[not shown: nested too deep]';

type Schema = Record<string, unknown>;

/** Why a value is not shown as it is: the schema marks it secret, cannot be followed there, or nests past the walk. */
export type SecretSite = 'secret' | 'unresolved' | 'too_deep';

/** A step into a value: an object member's name or an array index. */
export type ParamPath = (string | number)[];

/** Returns a copy of `params` with secret values replaced by a placeholder, following the action's JSON Schema. */
export function redactParams(params: unknown, schema: unknown): unknown {
  return replaceSecretValues(params, schema, (_value, _path, site) =>
    site === 'secret' ? WITHHELD : site === 'unresolved' ? UNRESOLVED : TOO_DEEP,
  );
}

/**
 * Returns a copy of `params` where every value the action's JSON Schema marks secret, and every value under a schema
 * this walk cannot follow, is replaced by what `replace` returns for it (the whole value: nothing below is visited).
 */
export function replaceSecretValues(
  params: unknown,
  schema: unknown,
  replace: (value: unknown, path: ParamPath, site: SecretSite) => unknown,
): unknown {
  const root = isObject(schema) ? schema : {};
  return walk(params, [root], root, [], replace);
}

function walk(
  value: unknown,
  schemas: Schema[],
  root: Schema,
  path: ParamPath,
  replace: (value: unknown, path: ParamPath, site: SecretSite) => unknown,
): unknown {
  const candidates = expand(schemas, root, 0);
  if (candidates === 'unresolved') return replace(value, path, 'unresolved');
  if (candidates.some(isSecret)) return replace(value, path, 'secret');
  if (path.length > 32) return replace(value, path, 'too_deep');
  if (Array.isArray(value)) {
    return value.map((item, i) =>
      walk(
        item,
        candidates.flatMap((s) => itemSchemas(s, i)),
        root,
        [...path, i],
        replace,
      ),
    );
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      out[key] = walk(
        child,
        candidates.flatMap((s) => propertySchemas(s, key)),
        root,
        [...path, key],
        replace,
      );
    }
    return out;
  }
  return value;
}

/** The schema and every subschema that applies alongside it (allOf/anyOf/oneOf, local $ref). */
function expand(schemas: Schema[], root: Schema, depth: number): Schema[] | 'unresolved' {
  const out: Schema[] = [];
  for (const s of schemas) {
    if (depth > 16) return 'unresolved';
    out.push(s);
    const nested: Schema[] = [];
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = s[key];
      if (Array.isArray(list)) nested.push(...list.filter(isObject));
    }
    for (const key of ['then', 'else'] as const) {
      const sub = s[key];
      if (isObject(sub)) nested.push(sub);
    }
    if (typeof s.$ref === 'string') {
      const target = resolveLocalRef(root, s.$ref);
      if (!target) return 'unresolved';
      nested.push(target);
    }
    if (nested.length > 0) {
      const more = expand(nested, root, depth + 1);
      if (more === 'unresolved') return more;
      out.push(...more);
    }
  }
  return out;
}

function propertySchemas(schema: Schema, key: string): Schema[] {
  const properties = schema.properties;
  if (isObject(properties) && isObject(properties[key])) return [properties[key]];
  const out: Schema[] = [];
  const patterns = schema.patternProperties;
  if (isObject(patterns)) {
    for (const [pattern, sub] of Object.entries(patterns)) {
      if (isObject(sub) && safeTest(pattern, key)) out.push(sub);
    }
  }
  if (out.length === 0 && isObject(schema.additionalProperties)) out.push(schema.additionalProperties);
  return out;
}

function itemSchemas(schema: Schema, index: number): Schema[] {
  const prefix = schema.prefixItems;
  if (Array.isArray(prefix) && index < prefix.length) {
    const sub: unknown = prefix[index];
    return isObject(sub) ? [sub] : [];
  }
  return isObject(schema.items) ? [schema.items] : [];
}

function isSecret(schema: Schema): boolean {
  return schema.writeOnly === true || schema['x-secret'] === true;
}

function resolveLocalRef(root: Schema, ref: string): Schema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return isObject(node) ? node : undefined;
}

function safeTest(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(key);
  } catch {
    // An invalid pattern cannot be evaluated; treating it as matching errs toward withholding.
    return true;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
