// The credential vault: envelope-encrypted connector secrets, read only by the executing activity, every read logged.
export * from './master-key';
export * from './envelope';
export * from './tables';
export * from './vault';
export * from './resolver';
export * from './key-protector';
export * from './sealed-params';
