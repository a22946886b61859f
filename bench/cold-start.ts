// B7: cold start of dev mode as a newcomer runs it: `npm start` (the stale-build check, then the compiled
// `countersign dev`) until GET /readyz answers 200, with the Temporal CLI already cached and dist/ built. Once on a
// fresh data directory (the dev server creates its SQLite file and registers the search attributes; dev mode makes up
// its master key and operator tokens) and once more with that directory kept (the second start of the day). Each
// start runs on ports of its own and is stopped with SIGINT, as Ctrl-C does, before the next.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevMode } from './dev-mode';

export interface ColdStartFigures {
  rounds: number;
  /** `npm start` → /readyz 200 on a fresh data directory, per round (ms). */
  freshMs: number[];
  /** The same with the previous start's data directory kept, per round (ms). */
  keptMs: number[];
  /** The compiled `countersign dev` alone (no npm, no stale check), fresh and kept, per round (ms). */
  devFreshMs: number[];
  devKeptMs: number[];
}

async function timeStart(command: 'npm' | 'dev', dataDir: string): Promise<number> {
  const dev = await startDevMode({ command, dataDir });
  await dev.stop();
  return dev.readyMs;
}

/** Runs B7: per round, `npm start` fresh then kept, and the compiled `countersign dev` fresh then kept. */
export async function runColdStartBench(options: { rounds: number }): Promise<ColdStartFigures> {
  const figures: ColdStartFigures = { rounds: options.rounds, freshMs: [], keptMs: [], devFreshMs: [], devKeptMs: [] };
  // One start not counted: dist/ checked (built if stale) and the OS file cache warm, as on a developer's machine.
  const warm = mkdtempSync(join(tmpdir(), 'countersign-b7-'));
  try {
    await timeStart('npm', warm);
  } finally {
    rmSync(warm, { recursive: true, force: true });
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const command of ['npm', 'dev'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-b7-'));
      try {
        const fresh = await timeStart(command, dir);
        const kept = await timeStart(command, dir);
        (command === 'npm' ? figures.freshMs : figures.devFreshMs).push(fresh);
        (command === 'npm' ? figures.keptMs : figures.devKeptMs).push(kept);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return figures;
}
