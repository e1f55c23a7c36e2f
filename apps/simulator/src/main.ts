import { loadConfig } from '@rewind/config';
import { parseFaultSpecs, startSimulator } from '@rewind/simulator';

/** Stand-alone simulator process (./rewind simulator runs the same thing with a summary). */
async function main(): Promise<void> {
  const config = loadConfig();
  const sim = await startSimulator({
    port: config.simulatorPort,
    seed: config.simulatorSeed,
    faults: parseFaultSpecs(config.simulatorFaults),
    rootPorts: config.simulatorPlatformPorts,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`simulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
