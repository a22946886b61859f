// B12: cold start of the compiled `countersign` bin, spawned as a user runs it: `--help` (nothing but commander and
// the command tree) and `requests list` (settings, the operator client and one HTTP call, answered here by a loopback
// stand-in of the operator API so the figure is the CLI's own). Wall time from spawn to exit, sequential.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { quantile } from './stats';

const BIN = fileURLToPath(new URL('../bin/countersign.js', import.meta.url));

export interface CliBenchFigures {
  samples: number;
  helpP50ms: number;
  helpP99ms: number;
  listP50ms: number;
  listP99ms: number;
}

function timeRun(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`countersign ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(performance.now() - started);
    });
  });
}

/** Runs B12 with `samples` cold starts per command (after one warm-up each, so the OS file cache is warm). */
export async function runCliBench(options: { samples: number }): Promise<CliBenchFigures> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, COUNTERSIGN_OPERATOR_TOKEN: 'cs_op_bench' };
  try {
    const help: number[] = [];
    const list: number[] = [];
    await timeRun(['--help'], env);
    await timeRun(['requests', 'list', '--api', api], env);
    for (let i = 0; i < options.samples; i++) {
      help.push(await timeRun(['--help'], env));
      list.push(await timeRun(['requests', 'list', '--api', api], env));
    }
    return {
      samples: options.samples,
      helpP50ms: quantile(help, 0.5),
      helpP99ms: quantile(help, 0.99),
      listP50ms: quantile(list, 0.5),
      listP99ms: quantile(list, 0.99),
    };
  } finally {
    server.close();
  }
}
