// Reading a request's Temporal history in tests: as text with every payload's bytes shown, and with the payloads the
// product's codec sealed opened again by the harness's key (what an operator reads through the codec endpoint).
import type { Payload } from '@temporalio/common';
import type { Harness } from './harness';

/** A history as text, with every payload's bytes decoded (JSON.stringify would show them as numbers). */
export function readable(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n');
}

/** The history with every sealed payload opened by the harness's codec, in place. */
export async function openPayloads<T>(h: Harness, history: T): Promise<T> {
  const stack: unknown[] = [history];
  while (stack.length > 0) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    const o = v as { metadata?: unknown; data?: unknown };
    if (h.codec && o.metadata && o.data instanceof Uint8Array) {
      const [opened] = await h.codec.decode([o as Payload]);
      Object.assign(o, opened);
      continue;
    }
    const children: unknown[] = Array.isArray(v) ? (v as unknown[]) : Object.values(v as Record<string, unknown>);
    stack.push(...children);
  }
  return history;
}

/** The raw history of a request as text (payloads as stored, sealed where the codec is on). */
export async function rawHistoryText(h: Harness, id: string): Promise<string> {
  return readable(await h.client.workflow.getHandle(id).fetchHistory());
}

/** The history of a request as text with every sealed payload opened. */
export async function openedHistoryText(h: Harness, id: string): Promise<string> {
  return readable(await openPayloads(h, await h.client.workflow.getHandle(id).fetchHistory()));
}
