/**
 * Engine throughput: 1,000,000 raw events of the default configuration (corner-shop layout, bundled
 * fixtures) into a /dev/null-like sink that sums the bytes of `value + "\n"`, as `simulate` would
 * print them. Prints raw events/s and heap used. Run: `npm run bench:engine`.
 */
import { createEngine, defaultEngineConfig } from '../src/engine/index.js';
import type { EngineMessage } from '../src/engine/index.js';
import { loadFixtures } from '../src/cli/load-fixtures.js';

const N = Number(process.argv[2] ?? 1_000_000);
const fixtures = loadFixtures();

function once(label: string, flatten: boolean): void {
  const engine = createEngine({ fixtures, config: defaultEngineConfig({ seed: 42 }) });
  let bytes = 0;
  let markers = 0;
  const sink = flatten
    ? (m: EngineMessage): void => { if (m.kind === 'event') bytes += Buffer.byteLength(m.value + '\n'); else markers++; }
    : (m: EngineMessage): void => { if (m.kind === 'event') bytes += (m.value + '\n').length; else markers++; };
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n = 0;
  while (n < N) n += engine.run(Infinity, Math.min(100_000, N - n), sink);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const heapMb = process.memoryUsage().heapUsed / 1048576;
  console.log(`${label}: ${n.toLocaleString('en-US')} raw events in ${s.toFixed(3)} s = ${Math.round(n / s).toLocaleString('en-US')} events/s ` +
    `(process CPU ${cpuS.toFixed(3)} s = ${Math.round(n / cpuS).toLocaleString('en-US')} events per CPU second), ` +
    `${(bytes / 1048576).toFixed(1)} MiB, ${markers} markers, simulated ${((engine.nowMs - engine.config.startMs) / 86_400_000).toFixed(1)} days, heap used ${heapMb.toFixed(1)} MiB`);
}

once('warm-up', false);
once('engine → sum of (value+"\\n").length', false);
once('engine → Buffer.byteLength (strings flattened, UTF-8 encoded)', true);
