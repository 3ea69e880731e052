import { runProgram } from './program';

// Broken pipes (`strata … | head`) end output quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

/** Resolves once everything written to the stream so far has left the process. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0 || stream.destroyed) resolve();
    else stream.write('', () => resolve());
  });
}

void runProgram(process.argv.slice(2), {
  // only on use: process.stdin sets up a stream (and its modules) that most commands never read
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: !!process.stderr.isTTY,
})
  .then(async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    // Exit as soon as the output is out: left alone, node first waits for V8's background work
    // (optimising compiles, heap sweeping), which can add tens of milliseconds to a short command.
    process.exit(code);
  });
