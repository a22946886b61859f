// Exposure budgets and anomaly signals: executions recorded by the connector activity, read by policy.
export * from './tables';
export * from './store';
export * from './recorder';
export * from './budget';
export * from './signals';
export * from './refusals';
export * from './policy';
