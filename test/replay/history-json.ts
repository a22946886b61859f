// Workflow histories as JSON in the format of `temporal workflow show --output json` (what the Temporal UI imports).
// The SDK's historyToJSON/historyFromJSON are not used: this dependency tree holds separate protobufjs copies under
// @temporalio/common and @temporalio/proto, and protojson's `instanceof Type` check fails across copies ("type must
// be a Type"). Converting with the protobufjs copy that @temporalio/proto itself loads sidesteps that.
import { createRequire } from 'node:module';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null;
}
interface ProtoRoot {
  lookupType(name: string): { fromObject(value: unknown): unknown };
}

const require = createRequire(import.meta.url);
const protoEntry = require.resolve('@temporalio/proto');
const protojson = createRequire(protoEntry)('protobufjs/ext/protojson') as ProtoJson;
const patchModule = require('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot: (root: unknown) => ProtoRoot;
};
const historyType = patchModule
  .patchProtobufRoot(require('@temporalio/proto'))
  .lookupType('temporal.api.history.v1.History');

/** A history (as `fetchHistory()` returns it) as pretty JSON text. */
export function historyToJsonText(history: History): string {
  return `${JSON.stringify(protojson.toJson(historyType, historyType.fromObject(history)), null, 2)}\n`;
}

/** A history parsed from JSON text, ready for `Worker.runReplayHistory`. */
export function historyFromJsonText(text: string): History {
  const history = protojson.fromJson(historyType, JSON.parse(text), { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a workflow history');
  return history;
}
