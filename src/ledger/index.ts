// The execution ledger: what makes "at most one execution" hold for a downstream that ignores idempotency keys.
export * from './ledger';
