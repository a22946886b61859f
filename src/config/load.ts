// Reads and validates the YAML config; every problem is reported with its path.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { AppError, formatPath, type FieldIssue } from '../errors';
import { packagePath } from '../paths';
import { configSchema, type CountersignConfig } from './schema';

/** The example configuration loaded when COUNTERSIGN_CONFIG is unset. */
export const EXAMPLE_CONFIG_PATH = packagePath('examples', 'countersign.yaml');

/** Parses YAML text into a validated config; throws AppError('config_invalid') with every issue. */
export function parseConfig(text: string, source = 'config'): CountersignConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new AppError('config_invalid', `${source}: invalid YAML`, {
      errors: doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message })),
    });
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    throw new AppError('config_invalid', `${source}: invalid configuration`, {
      errors: result.error.issues.map((i): FieldIssue => ({ path: formatPath(i.path), message: i.message })),
    });
  }
  return result.data;
}

/** Loads the config file at `path` (the example when undefined), its text passed through `transform` first if given. */
export function loadConfigFile(
  path: string | undefined,
  transform?: (text: string) => string,
): { config: CountersignConfig; path: string } {
  const file = path ?? EXAMPLE_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AppError('config_invalid', `cannot read config file ${file}`, { cause });
  }
  return { config: parseConfig(transform ? transform(text) : text, file), path: file };
}
