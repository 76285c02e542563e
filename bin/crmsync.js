#!/usr/bin/env node
// Entry point for the installed `crmsync` command. Node >= 22.18 strips TypeScript types natively, so the
// sources run without a build step.
import '../src/cli/main.ts';
