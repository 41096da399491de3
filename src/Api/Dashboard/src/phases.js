// The migration state machine as the page draws it (src/Domain/Migrations/MigrationState.cs).

/** The phases of a migration that goes well, in order. */
export const Forward = ['queued', 'scheduled', 'preparingTarget', 'targetReady', 'running', 'switchingOver', 'cleaningUp', 'completed'];

export const Terminal = new Set(['completed', 'failed', 'cancelled']);

export const isActive = (m) => !Terminal.has(m.state);

/** The phases a migration went through, from its timeline (phase changes only, not moments). */
export function phasesOf(migration) {
  return migration.timeline.filter((t) => !t.event).map((t) => ({ state: t.state, at: Date.parse(t.at), note: t.note }));
}
