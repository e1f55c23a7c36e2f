import { loadConfig } from '@rewind/config';
import { parseFaultSpecs, SIMULATED_PLATFORMS, startSimulator } from '@rewind/simulator';
import { ParsedArgs, intOption, rejectUnknown } from '../args';
import { log } from '../runtime';

/**
 * rewind simulator [--port N] [--seed S]: the four platforms, in the foreground until Ctrl-C; each under
 * /<platform> on the port and (SIMULATOR_PLATFORM_PORTS=1) at the root of port + 1 … + 4.
 */
export async function simulatorCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['port', 'seed']);
  const config = loadConfig();
  const seedOption = args.options.get('seed');
  const sim = await startSimulator({
    port: intOption(args, 'port', config.simulatorPort, 0, 65535),
    seed: typeof seedOption === 'string' ? seedOption : config.simulatorSeed,
    faults: parseFaultSpecs(config.simulatorFaults),
    rootPorts: config.simulatorPlatformPorts,
    log,
  });
  process.stdout.write(
    `\nSimulator is up (seed ${typeof seedOption === 'string' ? seedOption : config.simulatorSeed}).\n` +
      SIMULATED_PLATFORMS.map((p) => `  ${p.padEnd(12)} ${sim.baseUrl(p)}${config.simulatorPlatformPorts ? `  and ${sim.rootUrl(p)} (at the root)` : ''}`).join('\n') +
      `\n  faults       ${sim.url}/admin/faults\n\nPress Ctrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  log('simulator stopped');
  return 0;
}
