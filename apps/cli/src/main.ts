#!/usr/bin/env node
import { run } from './program';

// A CLI's settings are its environment (CAPSTAN_URL, CAPSTAN_TOKEN, ...), read here once and passed down.
// A reader that stops early (`capstan clusters list | head -1`) closes the pipe: that ends the
// output, not the CLI with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw error;
});

void run(process.argv, { env: process.env }).then((code) => {
  process.exitCode = code;
});
