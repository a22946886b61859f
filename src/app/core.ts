// The pieces every process needs, built once from settings: the validated config, the compiled policy and catalog,
// and the agent directory. Any problem surfaces here, at start-up, as one AppError listing every issue with its path.
import { createConfigAgentDirectory, type AgentDirectory } from '../agents';
import { ActionCatalog } from '../catalog';
import { loadConfigFile } from '../config/load';
import type { CountersignConfig } from '../config/schema';
import type { Settings } from '../config/settings';
import { AppError, type FieldIssue } from '../errors';
import { PolicyEngine } from '../policy/engine';
import { declareUsageVariables, planUsageQueries, type UsageQuery } from '../usage/budget';

export interface Core {
  config: CountersignConfig;
  /** The config file that was loaded. */
  configPath: string;
  catalog: ActionCatalog;
  policy: PolicyEngine;
  agents: AgentDirectory;
  /** The usage figures (`usage.sum`/`usage.count`) the rules read, loaded before each decision. */
  usagePlan: UsageQuery[];
}

/**
 * Loads and compiles the config named by COUNTERSIGN_CONFIG (or `path`, or the example); throws with every problem.
 * `transform` rewrites the file's text first (dev mode moves the example's billing URLs to the configured port).
 */
export function loadCore(
  settings: Pick<Settings, 'COUNTERSIGN_CONFIG'>,
  path?: string,
  transform?: (text: string) => string,
): Core {
  const { config, path: configPath } = loadConfigFile(path ?? settings.COUNTERSIGN_CONFIG, transform);
  const issues: FieldIssue[] = [];
  // Compile everything so a bad parameter schema, a bad CEL condition and a bad budget are reported together.
  const catalog = collect(() => ActionCatalog.compile(config), issues);
  const policy = collect(() => PolicyEngine.compile(config, { extend: declareUsageVariables }), issues);
  const usagePlan = collect(() => planUsageQueries(config), issues);
  if (!catalog || !policy || !usagePlan) {
    throw new AppError('config_invalid', `${configPath}: invalid configuration`, { errors: issues });
  }
  return { config, configPath, catalog, policy, agents: createConfigAgentDirectory(config), usagePlan };
}

function collect<T>(build: () => T, issues: FieldIssue[]): T | undefined {
  try {
    return build();
  } catch (err) {
    if (err instanceof AppError && err.code === 'config_invalid') {
      issues.push(...err.errors);
      return undefined;
    }
    throw err;
  }
}
