/** The engine's public surface: pure simulation, configuration, fixture checks and shared types. */
export { createEngine } from './engine.js';
export type { CreateEngineOptions } from './engine.js';
export { defaultEngineConfig, resolveEngineConfig, DEFAULT_START_MS } from './config.js';
export type { EngineConfigOverrides, ResolvedEngineConfig } from './config.js';
export { checkFixtures } from './fixtures-check.js';
export * from './types.js';
