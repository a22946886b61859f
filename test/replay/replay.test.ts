// Replays committed histories (scripts/record-histories.ts) against today's workflow code: a change that would break
// requests already in flight fails here. The negative case proves the check bites: a workflow that skips the re-check
// cannot replay the recorded allow history.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createLogger } from '../../src/logger';
import type { ActionRequestState } from '../../src/contracts/types';
import { historyFromJsonText } from './history-json';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const SKIP_RECHECK = fileURLToPath(new URL('./fixtures/skip-recheck-workflow.ts', import.meta.url));

/** The terminal status each recorded path must have ended in. */
const EXPECTED: Record<string, ActionRequestState['status']> = {
  allow: 'succeeded',
  deny: 'denied',
  'quorum-approval': 'succeeded',
  rejection: 'rejected',
  expiry: 'expired',
  escalation: 'succeeded',
  cancellation: 'cancelled',
};

/** Paths recorded from a generation on: dev mode's layout (the re-check inside the connector's activity), from v5. */
const ADDED: Record<string, { from: number; status: ActionRequestState['status'] }> = {
  'allow-colocated': { from: 5, status: 'succeeded' },
};

const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
const load = (file: string) => historyFromJsonText(readFileSync(`${HISTORIES}${file}`, 'utf8'));
const quiet = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  log: () => undefined,
};

/** `<generation>-<path>.json`: one generation per workflow change recorded by scripts/record-histories.ts. */
function parseName(file: string): { generation: string; path: string } {
  const match = /^(v\d+)-(.+)\.json$/.exec(file);
  if (!match) throw new Error(`history file ${file} is not named <generation>-<path>.json`);
  return { generation: match[1]!, path: match[2]! };
}

/** The workflow result recorded at the end of a history. */
function recordedResult(file: string): ActionRequestState {
  const events = load(file).events ?? [];
  const completed = events.at(-1)?.workflowExecutionCompletedEventAttributes;
  const data = completed?.result?.payloads?.[0]?.data;
  if (!data) throw new Error(`${file} does not end with a completed workflow`);
  return JSON.parse(Buffer.from(data).toString('utf8')) as ActionRequestState;
}

beforeAll(() => {
  installTemporalRuntime(createLogger({ level: 'warn', name: 'replay' }), 'WARN');
});

describe('replay of recorded histories', () => {
  it('when the histories are listed, then every generation records every required path, ended as recorded', () => {
    const generations = new Map<string, string[]>();
    for (const file of files) {
      const { generation, path } = parseName(file);
      generations.set(generation, [...(generations.get(generation) ?? []), path]);
      expect(recordedResult(file).status, file).toBe(EXPECTED[path] ?? ADDED[path]?.status);
    }
    expect(generations.size).toBeGreaterThan(0);
    for (const [generation, paths] of generations) {
      const n = Number(generation.slice(1));
      const added = Object.entries(ADDED).flatMap(([path, a]) => (n >= a.from ? [path] : []));
      expect(paths.sort(), generation).toEqual([...Object.keys(EXPECTED), ...added].sort());
    }
  });

  it('when the v5 and v6 histories are read, then they hold no patch marker, and the dev-mode one runs its re-check in the connector activity', () => {
    const text = (file: string) => readFileSync(`${HISTORIES}${file}`, 'utf8');
    for (const file of files.filter((f) => f.startsWith('v5-') || f.startsWith('v6-'))) {
      expect(text(file), file).not.toContain('"markerName": "core_patch"');
      expect(text(file), file).not.toContain('TemporalChangeVersion');
    }
    expect(text('v4-allow.json')).toContain('"markerName": "core_patch"');
    expect(text('v5-allow-colocated.json')).toContain('"name": "executeCheckedAction"');
    expect(text('v5-allow-colocated.json')).not.toContain('"markerName": "core_local_activity"');
    expect(text('v5-allow.json')).toContain('"name": "executeConnectorAction"');
  });

  it('when the v6 histories are read, then an approved execution upserts only its outcome and starts no timer, where v5 did both', () => {
    const statuses = (file: string) =>
      (load(file).events ?? []).flatMap((e) => {
        const data = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.CsStatus?.data;
        return data ? [JSON.parse(Buffer.from(data).toString('utf8')) as string] : [];
      });
    expect(statuses('v5-quorum-approval.json')).toEqual(['executing', 'succeeded']);
    expect(statuses('v6-quorum-approval.json')).toEqual(['succeeded']);
    // Nor a timer for the executing notice: the connector's activity signals when it runs long.
    const timersAfterExecution = (file: string) => {
      const events = load(file).events ?? [];
      const at = events.findIndex(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeConnectorAction',
      );
      return events.slice(at).filter((e) => e.timerStartedEventAttributes).length;
    };
    expect(timersAfterExecution('v5-quorum-approval.json')).toBe(1);
    expect(timersAfterExecution('v6-quorum-approval.json')).toBe(0);
  });

  it('when the generations are compared, then decisions arrive as signals before v3 and as decide updates from v3 on', () => {
    const text = (file: string) => readFileSync(`${HISTORIES}${file}`, 'utf8');
    for (const generation of ['v1', 'v2']) {
      expect(text(`${generation}-quorum-approval.json`)).toContain('"signalName": "submitDecision"');
      expect(text(`${generation}-cancellation.json`)).toContain('"signalName": "cancelRequest"');
    }
    expect(text('v3-quorum-approval.json')).toMatch(/workflowExecutionUpdateAccepted/i);
    expect(text('v3-quorum-approval.json')).not.toContain('"signalName": "submitDecision"');
    expect(text('v3-cancellation.json')).toMatch(/"name": "cancel"/);
  });

  it('when the v4 histories are read, then every request started its webhook deliveries as child workflows', () => {
    const text = (file: string) => readFileSync(`${HISTORIES}${file}`, 'utf8');
    const children = (file: string) =>
      text(file).match(/"startChildWorkflowExecutionInitiatedEventAttributes"/g)?.length ?? 0;
    // One terminal event each, plus the pending_approval event of those that waited for people.
    expect(children('v4-allow.json')).toBe(1);
    expect(children('v4-deny.json')).toBe(1);
    for (const path of ['quorum-approval', 'rejection', 'expiry', 'escalation', 'cancellation']) {
      expect(children(`v4-${path}.json`), path).toBe(2);
    }
    expect(text('v3-allow.json')).not.toContain('startChildWorkflowExecutionInitiatedEventAttributes');
  });

  it('when the histories are read, then no credential appears in them', () => {
    for (const file of files) {
      const text = readFileSync(`${HISTORIES}${file}`, 'utf8');
      const decoded = text.replace(/"data": "([A-Za-z0-9+/=]+)"/g, (_, b64: string) =>
        Buffer.from(b64, 'base64').toString('utf8'),
      );
      expect(decoded, file).not.toContain('recording-credential');
      // The webhook signing secret (scripts/record-histories.ts) stays with the worker too.
      expect(decoded, file).not.toContain(Buffer.from('recording-webhook-secret-0123456789').toString('base64'));
    }
  });

  it.each(files)(
    'when %s is replayed against the current workflow, then it replays without nondeterminism',
    async (file) => {
      await expect(
        Worker.runReplayHistory(
          {
            workflowBundle: { codePath: inject('workflowBundlePath') },
            replayName: `replay-${file}`,
            // Sinks are never called during replay; registered, they are not reported missing either.
            sinks: { requests: { closed: { fn: () => undefined } } },
          },
          load(file),
          file,
        ),
      ).resolves.toBeUndefined();
    },
  );

  describe('a workflow change without patched()', () => {
    let changed: WorkflowBundle;
    beforeAll(async () => {
      changed = await bundleWorkflowCode({ workflowsPath: SKIP_RECHECK, logger: quiet });
    }, 120_000);

    it('when a history is replayed against a workflow that skips the re-check, then replay fails with DeterminismViolationError', async () => {
      await expect(
        Worker.runReplayHistory({ workflowBundle: changed }, load('v1-allow.json'), 'allow'),
      ).rejects.toBeInstanceOf(DeterminismViolationError);
    });
  });
});
