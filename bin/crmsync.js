#!/usr/bin/env node
// Entry point of the installed `crmsync` command. Node >= 22.18 strips TypeScript types natively, so the
// sources run without a build step.
import { runCli, silenceSqliteExperimentalWarning } from '../src/cli/main.ts';

silenceSqliteExperimentalWarning();
process.exitCode = await runCli(process.argv.slice(2));
