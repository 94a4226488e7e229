#!/usr/bin/env node
// Composition root of `tm`: the process's env, streams and exit code; the commands live in commands.ts.
import { run } from "./commands.js";

const code = await run(process.argv.slice(2), { env: process.env, out: process.stdout, err: process.stderr, stdin: process.stdin });
// Exit once stdout has flushed (it may be a pipe to a script).
process.stdout.write("", () => process.exit(code));
