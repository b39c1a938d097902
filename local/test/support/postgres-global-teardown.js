import { rm } from 'node:fs/promises';

export default async function teardown() {
  const state = globalThis.__cliscaleTestPostgres;
  if (!state) return;
  await state.pg.stop();
  await rm(state.dataDir, { recursive: true, force: true });
}
