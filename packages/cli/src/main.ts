import { runProgram } from './program';

// Broken pipes (`strata … | head`) end output quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

void runProgram(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: !!process.stderr.isTTY,
}).then((code) => {
  process.exitCode = code;
});
