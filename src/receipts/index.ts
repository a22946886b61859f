// Approval receipts: signed by the connector activity, verified by downstream services.
export * from './claims';
export * from './keys';
export * from './sign';
export * from './verify';
