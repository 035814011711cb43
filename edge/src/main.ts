#!/usr/bin/env node
// `gridwatch`: the edge agent (`run`) and the installer commands. Errors are reported once, at
// the command boundary, and turn into the exit code.
import { Command } from 'commander';
import { AGENT_VERSION } from './agent.ts';
import { registerCli } from './cli/index.ts';

const program = new Command()
  .name('gridwatch')
  .description('GridWatch edge: the gateway agent (local device broker, rules, durable outbox, cloud uplink) and the installer commands')
  .version(AGENT_VERSION);

registerCli(program);

await program.parseAsync(process.argv);
