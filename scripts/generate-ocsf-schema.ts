// Generates the JSON Schema of one OCSF event class from the OCSF schema definitions (github.com/ocsf/ocsf-schema),
// read from a local git clone at a release tag, so the evidence export's OCSF output is checked offline in a test.
//
//   npx tsx scripts/generate-ocsf-schema.ts <ocsf-schema git dir> [tag=1.8.0] [class=application/api_activity]
//
// What it compiles: the class's `extends` chain and `$include`d profiles; dictionary types (primitive types map to
// JSON types, integer enums become `enum`); objects with their `extends` chains as `$defs`; `required` from
// `requirement: required`; `additionalProperties: false` everywhere, so only attributes the schema defines pass.
// What it leaves out: regex patterns of string types and string enums (OCSF treats them as suggestions).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

type Json = Record<string, unknown>;
interface AttrDef {
  type?: string;
  is_array?: boolean;
  requirement?: string;
  enum?: Record<string, unknown>;
  caption?: string;
  object_type?: string;
  '@deprecated'?: unknown;
}

const [gitDir, tag = '1.8.0', classPath = 'application/api_activity'] = process.argv.slice(2);
if (!gitDir) {
  process.stderr.write('usage: generate-ocsf-schema.ts <ocsf-schema git dir> [tag] [category/class]\n');
  process.exit(2);
}
const show = (path: string): Json =>
  JSON.parse(execFileSync('git', ['--git-dir', gitDir, 'show', `${tag}:${path}`], { encoding: 'utf8' })) as Json;

const dictionary = show('dictionary.json');
const dictAttrs = dictionary.attributes as Record<string, AttrDef>;
const types = (dictionary.types as { attributes: Record<string, { type?: string }> }).attributes;
const categories = (show('categories.json').attributes ?? {}) as Record<string, { uid: number }>;
const defs: Record<string, Json> = {};

/** Attributes of a definition file: its extends chain first, then $includes, then its own (later ones win). */
function attributesOf(def: Json, load: (name: string) => Json | undefined): Record<string, AttrDef> {
  const parent = typeof def.extends === 'string' ? load(def.extends) : undefined;
  const out: Record<string, AttrDef> = parent ? attributesOf(parent, load) : {};
  const own = (def.attributes ?? {}) as Record<string, unknown>;
  for (const include of (own.$include as string[] | undefined) ?? []) {
    const inc = show(include);
    for (const [k, v] of Object.entries((inc.attributes ?? {}) as Record<string, AttrDef>)) {
      out[k] = { ...out[k], ...v, requirement: v.requirement === 'required' ? 'optional' : v.requirement };
    }
  }
  for (const [k, v] of Object.entries(own)) {
    if (k === '$include' || v === null || typeof v !== 'object') continue;
    const merged: AttrDef = { ...out[k], ...(v as AttrDef) };
    // A class's enum adds to its parent's (base_event's 0 Unknown and 99 Other stay valid).
    if (out[k]?.enum && (v as AttrDef).enum) merged.enum = { ...out[k]?.enum, ...(v as AttrDef).enum };
    out[k] = merged;
  }
  return out;
}

function loadObject(name: string): Json | undefined {
  if (name === 'object') return undefined;
  return show(`objects/${name}.json`);
}

function primitive(type: string): Json {
  let t = type;
  while (types[t]?.type) t = types[t]?.type as string;
  switch (t) {
    case 'integer_t':
    case 'long_t':
      return { type: 'integer' };
    case 'float_t':
      return { type: 'number' };
    case 'boolean_t':
      return { type: 'boolean' };
    case 'json_t':
      return {};
    default:
      return { type: 'string' };
  }
}

function propertySchema(name: string, attr: AttrDef): Json {
  const base = { ...dictAttrs[name], ...attr };
  const type = base.type ?? 'string_t';
  let schema: Json;
  if (type === 'object_t' || !type.endsWith('_t')) {
    const objectName = type === 'object_t' ? (base.object_type ?? 'object') : type;
    defineObject(objectName);
    schema = { $ref: `#/$defs/${objectName}` };
  } else {
    schema = primitive(type);
    if (base.enum && schema.type === 'integer') schema.enum = Object.keys(base.enum).map(Number);
  }
  return base.is_array ? { type: 'array', items: schema } : schema;
}

function objectSchema(attributes: Record<string, AttrDef>, title: string): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const [name, attr] of Object.entries(attributes)) {
    properties[name] = propertySchema(name, attr);
    if (attr.requirement === 'required') required.push(name);
  }
  return { title, type: 'object', properties, required: required.sort(), additionalProperties: false };
}

function defineObject(name: string): void {
  if (defs[name]) return;
  const def = loadObject(name);
  if (!def) {
    defs[name] = { type: 'object' };
    return;
  }
  defs[name] = {}; // placeholder against cycles
  defs[name] = objectSchema(attributesOf(def, loadObject), typeof def.caption === 'string' ? def.caption : name);
}

const classDef = show(`events/${classPath}.json`);
const loadEvent = (name: string): Json | undefined =>
  name === 'base_event' ? show('events/base_event.json') : show(`events/${classPath.split('/')[0]}/${name}.json`);
const attributes = attributesOf(classDef, loadEvent);
const parentCategory = loadEvent(String(classDef.extends))?.category;
const categoryName = typeof parentCategory === 'string' ? parentCategory : '';
const categoryUid = categories[categoryName]?.uid ?? 0;
const classUid = categoryUid * 1000 + Number(classDef.uid);
const activityIds = Object.keys(attributes.activity_id?.enum ?? {}).map(Number);
const schema = objectSchema(attributes, String(classDef.caption));
const props = schema.properties as Record<string, Json>;
props.class_uid = { type: 'integer', const: classUid };
props.category_uid = { type: 'integer', const: categoryUid };
props.type_uid = { type: 'integer', enum: activityIds.map((a) => classUid * 100 + a) };

const out = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://schema.ocsf.io/${tag}/classes/${String(classDef.name)}`,
  $comment:
    `Generated by scripts/generate-ocsf-schema.ts from github.com/ocsf/ocsf-schema at tag ${tag} ` +
    `(events/${classPath}.json, dictionary.json, objects/, profiles/). Do not edit by hand.`,
  ...schema,
  $defs: Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b))),
};
const file = `schema/ocsf/${String(classDef.name)}-${tag}.schema.json`;
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`wrote ${file} (class_uid ${classUid}, ${Object.keys(defs).length} objects)\n`);
