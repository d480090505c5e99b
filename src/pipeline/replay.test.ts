import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from '../engine/engine.js';
import type { EngineCommand, EngineMessage } from '../engine/types.js';
import type { CommandLogEntry } from '../db/types.js';
import { loadFixtures } from '../cli/load-fixtures.js';
import { replayEngine } from './replay.js';

const fixtures = loadFixtures();

function streamHash(): { emit: (m: EngineMessage) => void; digest: () => string; count: () => number } {
  const h = createHash('sha256');
  let n = 0;
  return {
    emit: (m) => { if (m.kind === 'event') { h.update(m.value + '\n'); n++; } },
    digest: () => h.digest('hex'),
    count: () => n,
  };
}

describe('replay of a command log', () => {
  it('reproduces a paced run whose commands were applied between chunks, at whatever clock the chunk left', async () => {
    // Given a live run driven like the engine driver: wall-clock chunks, a chunk cap, commands between chunks
    const config = defaultEngineConfig({ seed: 11, faults: { schema: 0.01, late: 0.01, duplicate: 0.01 } });
    const live = createEngine({ fixtures, config, recordLedger: true });
    const out = streamHash();
    const log: CommandLogEntry[] = [];
    const commands: EngineCommand[] = [
      { type: 'set_rate', perMin: 6 }, { type: 'set_fault', fault: 'unparseable', rate: 0.05 },
      { type: 'pause' }, { type: 'resume' }, { type: 'set_rate', perMin: 1 }, { type: 'set_fault', fault: 'schema', rate: 0 },
      { type: 'set_rate', perMin: 4 },
    ];
    let until = config.startMs;
    for (let chunk = 0; chunk < 400; chunk++) {
      until += 7_919; // simulated ms per chunk: a paced run's clock moves past quiet moments
      live.run(until, chunk % 3 === 0 ? 5 : 4_096, out.emit); // some chunks stop on the event cap, not on time
      if (chunk % 50 === 25 && commands.length > 0) {
        const cmd = commands.shift()!;
        log.push({ step: live.step, sim_ms: live.nowMs, command: { ...cmd } });
        live.apply(cmd);
      }
    }
    // When the run is replayed from its seed, configuration and command log
    const again = createEngine({ fixtures, config: defaultEngineConfig({ seed: 11, faults: { schema: 0.01, late: 0.01, duplicate: 0.01 } }), recordLedger: true });
    const replayed = streamHash();
    await replayEngine(again, { commands: log, maxEvents: live.produced, untilMs: Number.POSITIVE_INFINITY, emit: replayed.emit });
    // Then the same messages come out, and the ledgers agree
    expect(replayed.count()).toBe(out.count());
    expect(replayed.digest()).toBe(out.digest());
    expect(again.ledger().visits).toEqual(live.ledger().visits);
  });
});
