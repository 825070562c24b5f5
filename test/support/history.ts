import { expect } from 'vitest';

/**
 * A service's lifecycle history as users read it (REST `/events`, GraphQL `events`): the user's own actions
 * in the order they were made, interleaved with the `status_changed` entries the provisioner writes as the
 * runtime converges. How many status changes land between two actions depends on timing, so tests assert
 * the actions exactly and the status changes by what they may say at that point of the story.
 */
export interface HistoryEntry {
  type: string;
  status?: string;
  at?: string;
}

/** The status a `status_changed` entry may carry after each user action (lowercase, as REST spells them). */
const STATUSES_AFTER: Record<string, readonly string[]> = {
  // Wanting the service up: it comes up, rolls a new spec, or fails trying.
  created: ['creating', 'running', 'updating', 'failed'],
  updated: ['creating', 'running', 'updating', 'failed'],
  start_requested: ['creating', 'running', 'updating', 'failed'],
  // Wanting it down: the only way is down.
  stop_requested: ['stopping', 'stopped'],
};

const STATUS_CHANGED = 'status_changed';

/** The entries that are not provisioner status changes, as lowercase types (GraphQL spells them in capitals). */
export function userActions(history: readonly HistoryEntry[]): string[] {
  return history.map((e) => e.type.toLowerCase()).filter((t) => t !== STATUS_CHANGED);
}

/**
 * Asserts that the user's actions are exactly `actions`, in order (the status changes between them left out),
 * that the history starts with the first action, that every status change carries a status the preceding
 * action allows, and that `at` (when selected) never goes backwards. Works on REST and GraphQL spellings.
 */
export function expectHistory(history: readonly HistoryEntry[], actions: readonly string[]): void {
  const seen = JSON.stringify(history);
  expect(userActions(history), seen).toEqual(actions);
  expect(history[0]?.type.toLowerCase(), seen).toBe(actions[0]);
  let lastAction = actions[0];
  let lastAt = '';
  for (const entry of history) {
    const type = entry.type.toLowerCase();
    if (type === STATUS_CHANGED) {
      const allowed = STATUSES_AFTER[lastAction];
      expect(allowed, `no status rule after ${lastAction}`).toBeDefined();
      expect(allowed, `status_changed after ${lastAction}: ${seen}`).toContain(entry.status?.toLowerCase());
    } else {
      lastAction = type;
    }
    if (entry.at !== undefined) {
      expect(entry.at >= lastAt, `history out of order: ${seen}`).toBe(true);
      lastAt = entry.at;
    }
  }
}
