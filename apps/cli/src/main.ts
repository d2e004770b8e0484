#!/usr/bin/env node
import { run } from './program';

// A CLI's settings are its environment (CAPSTAN_URL, CAPSTAN_TOKEN, ...), read here once and passed down.
void run(process.argv, { env: process.env }).then((code) => {
  process.exitCode = code;
});
