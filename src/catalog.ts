// The action catalog: each action's parameter schema compiled once (JSON Schema 2020-12, ajv).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ActionConfig, CountersignConfig } from './config/schema';
import { AppError, type FieldIssue } from './errors';

type Validator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; params: Record<string, unknown> }[] | null };

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Parameter validation for every action in the config. */
export class ActionCatalog {
  private constructor(
    private readonly actions: ReadonlyMap<string, { config: ActionConfig; validate: Validator }>,
  ) {}

  /** Compiles every parameter schema; a schema that does not compile is a config error with its path. */
  static compile(config: CountersignConfig): ActionCatalog {
    const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: false });
    addFormats(ajv);
    const issues: FieldIssue[] = [];
    const actions = new Map<string, { config: ActionConfig; validate: Validator }>();
    for (const [name, action] of Object.entries(config.actions)) {
      try {
        actions.set(name, { config: action, validate: ajv.compile(action.params) as Validator });
      } catch (err) {
        issues.push({ path: `actions.${name}.params`, message: err instanceof Error ? err.message : String(err) });
      }
    }
    if (issues.length > 0) throw new AppError('config_invalid', 'invalid parameter schema', { errors: issues });
    return new ActionCatalog(actions);
  }

  /** The action's config, or undefined when it is not in the catalog. */
  get(name: string): ActionConfig | undefined {
    return this.actions.get(name)?.config;
  }

  names(): string[] {
    return [...this.actions.keys()];
  }

  /** Every way `params` fails the action's schema, with paths under `params`. Empty when valid. */
  validate(name: string, params: unknown): FieldIssue[] {
    const entry = this.actions.get(name);
    if (!entry) return [{ path: 'action', message: `unknown action "${name}"` }];
    if (entry.validate(params)) return [];
    return (entry.validate.errors ?? []).map((e) => {
      const missing = typeof e.params.missingProperty === 'string' ? `/${e.params.missingProperty}` : '';
      const extra = typeof e.params.additionalProperty === 'string' ? `/${e.params.additionalProperty}` : '';
      const pointer = `${e.instancePath}${missing}${extra}`;
      const path = pointer
        .split('/')
        .filter(Boolean)
        .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
        .join('');
      return { path: `params${path}`, message: e.message ?? 'invalid' };
    });
  }
}
