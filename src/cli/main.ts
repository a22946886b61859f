// Entry point of the `countersign` command (bin/countersign.js and `npm start` run this file).
import { runCli } from './program';

const code = await runCli(process.argv.slice(2));
// Workers and gRPC channels are closed by now; exit explicitly so a lingering native handle cannot keep us alive.
process.exit(code);
