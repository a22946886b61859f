// The published JSON Schema of the config file, generated from the zod schema (the input side: what people write).
import { z } from 'zod';
import { configSchema } from '../config/schema';

/** Where the generated schema is committed, relative to the repository root. */
export const CONFIG_JSON_SCHEMA_PATH = 'schema/countersign.config.schema.json';

/** The config's JSON Schema (draft 2020-12), with an id and title editors show. */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  return {
    $schema,
    $id: 'https://countersign.dev/schema/countersign.config.schema.json',
    title: 'Countersign configuration',
    ...rest,
  };
}
