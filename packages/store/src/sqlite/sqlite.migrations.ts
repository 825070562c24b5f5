import type Database from 'better-sqlite3';

/**
 * Schema history, oldest first. `PRAGMA user_version` records how many steps a database has applied;
 * a step is never edited once released — a change is a new step appended at the end.
 *
 * Names are compared through `name_key` (the name lower-cased in JS): SQLite's `lower()` and `LIKE` fold
 * ASCII only, so "Ärger" and "ärger" would otherwise count as different names.
 * Every list index is partial on `deleted_at IS NULL` (lists never show deleted services) and carries the
 * other filter columns after its sort key, so a page walks one index newest first, testing filters without
 * touching the table, and a COUNT is answered from an index alone.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE services (
    id              TEXT    PRIMARY KEY,
    workspace_id    INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    name_key        TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    model_id        INTEGER NOT NULL,
    model_version   TEXT    NOT NULL,
    framework       TEXT    NOT NULL,
    cpu             REAL    NOT NULL,
    memory          INTEGER NOT NULL,
    gpu             INTEGER NOT NULL,
    replicas        INTEGER NOT NULL,
    desired_state   TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    status_reason   TEXT,
    status_message  TEXT,
    ready_replicas  INTEGER NOT NULL,
    generation      INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    deleted_at      TEXT
  );
  CREATE UNIQUE INDEX services_live_name ON services (workspace_id, name_key) WHERE deleted_at IS NULL;
  CREATE INDEX services_live_newest
    ON services (created_at DESC, id DESC, workspace_id, status, name_key) WHERE deleted_at IS NULL;
  CREATE INDEX services_live_workspace_newest
    ON services (workspace_id, created_at DESC, id DESC, status) WHERE deleted_at IS NULL;
  CREATE INDEX services_live_status_newest
    ON services (status, created_at DESC, id DESC, workspace_id) WHERE deleted_at IS NULL;

  CREATE TABLE service_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id  TEXT    NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    type        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    reason      TEXT,
    message     TEXT,
    at          TEXT    NOT NULL
  );
  CREATE INDEX service_events_by_service ON service_events (service_id, id);

  CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (scope, key)
  );
  CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

  CREATE TABLE models (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL,
    framework     TEXT    NOT NULL,
    task          TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
  );
  CREATE UNIQUE INDEX models_name ON models (workspace_id, name_key);
  CREATE INDEX models_newest ON models (created_at DESC, id DESC);
  CREATE INDEX models_workspace_newest ON models (workspace_id, created_at DESC, id DESC);

  CREATE TABLE model_versions (
    model_id       INTEGER NOT NULL REFERENCES models (id),
    version        TEXT    NOT NULL,
    format         TEXT    NOT NULL,
    artifact_path  TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    size_bytes     INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    inputs         TEXT    NOT NULL,
    outputs        TEXT    NOT NULL,
    labels         TEXT    NOT NULL,
    preprocessing  TEXT,
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (model_id, version)
  );
  `,
  // 2: what the provisioner observed — ready replicas' addresses (the router's table) and the generation seen.
  `
  ALTER TABLE services ADD COLUMN endpoints TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE services ADD COLUMN observed_generation INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: the parameters of a status reason and of a history line (JSON objects), so their words are chosen per
  // request. NULL on older rows: their stored English message keeps answering for them.
  `
  ALTER TABLE services ADD COLUMN status_params TEXT;
  ALTER TABLE service_events ADD COLUMN params TEXT;
  `,
  // 4: which live services use a model (deleting a model or version is refused while one does).
  `
  CREATE INDEX services_live_model ON services (model_id, model_version) WHERE deleted_at IS NULL;
  `,
  // 5: a version's dynamic batching (JSON {maxBatchSize, maxQueueDelayMs, preferredBatchSizes}); NULL: off.
  `
  ALTER TABLE model_versions ADD COLUMN batching TEXT;
  `,
  // 6: each replica's state as the provisioner last saw it (JSON array for the service detail); older rows: none.
  `
  ALTER TABLE services ADD COLUMN replica_states TEXT NOT NULL DEFAULT '[]';
  `,
];

/**
 * Brings the schema up to date in one transaction, so a crash never leaves half a step applied.
 * Returns how many steps ran (0 when the database was current).
 */
export function migrate(db: Database.Database, steps: readonly string[] = MIGRATIONS): number {
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > steps.length) {
      throw new Error(`database schema version ${current} is newer than this program knows (${steps.length})`);
    }
    for (const step of steps.slice(current)) db.exec(step);
    // PRAGMA takes no bound parameters; the value is a number we computed.
    db.pragma(`user_version = ${steps.length}`);
    return steps.length - current;
  });
  return apply.immediate();
}
