import type { JsonObject, RecordedEvent } from './types.js';

/** SQLSTATE the append function raises on a version conflict; its DETAIL is the actual version. */
export const WRONG_VERSION_SQLSTATE = 'PBWEV';

/** The LISTEN/NOTIFY channel of a schema's store. */
export const channelOf = (schema: string): string => `${schema}_events`;

/** A row of the global log as the readers select it, with what they need to judge gaps. */
export interface EventRow {
  position: string;
  stream: string;
  version: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject | null;
  recorded_at: string;
  /** The appending transaction's xid (0 for rows of an earlier layout): see `safePrefix`. */
  horizon: string;
  /** xmin of the snapshot the read ran under. */
  xmin: string;
}

export function toRecorded(row: EventRow): RecordedEvent {
  const base = {
    type: row.type,
    data: row.data,
    stream: row.stream,
    version: Number(row.version),
    position: Number(row.position),
    recordedAt: Number(row.recorded_at),
  };
  return Object.freeze(row.metadata === null ? base : { ...base, metadata: row.metadata });
}

/** What a read of the global log may hand out. */
export interface SafeRead {
  readonly events: RecordedEvent[];
  /** The read stopped at a gap that a transaction still running may fill: read again later. */
  readonly blocked: boolean;
}

/**
 * The longest prefix of `rows` (position order, all after `after`) in which no position
 * can still appear. Each row carries its append's xid (`horizon`); appends take their xid
 * and their positions in one short critical section (see the append function), so a
 * transaction holding a position below row r has an xid below r's. A gap before r is
 * therefore final once the read's snapshot has ended every transaction below r's xid —
 * `xmin >= horizon`: every xid below the snapshot's xmin has committed (and shows in the
 * snapshot) or rolled back — and otherwise the read stops there. Everything up to `after`
 * is final already (a position this rule let through, or 0). No timeout: a slow
 * transaction holds readers at its gap for as long as it runs, and is never skipped. The
 * xmin is the whole server's, so any long transaction on it (another database's too)
 * holds readers at a gap until it ends: a delay, never a loss.
 */
export function safePrefix(rows: readonly EventRow[], after: number): SafeRead {
  const events: RecordedEvent[] = [];
  let previous = after;
  for (const row of rows) {
    const position = Number(row.position);
    if (position !== previous + 1 && Number(row.horizon) > Number(row.xmin)) return { events, blocked: true };
    events.push(toRecorded(row));
    previous = position;
  }
  return { events, blocked: false };
}

/** A row of the head query: the base, then each later row's position and horizon (null: none). */
export interface HeadRow {
  base: string;
  position: string | null;
  horizon: string | null;
  xmin: string;
}

/** The last position `safePrefix` would let a reader reach: the base, extended through the later rows. */
export function safeHead(rows: readonly HeadRow[]): number {
  let head = Number(rows[0]?.base ?? 0);
  for (const row of rows) {
    if (row.position === null || row.horizon === null) break;
    const position = Number(row.position);
    if (position !== head + 1 && Number(row.horizon) > Number(row.xmin)) break;
    head = position;
  }
  return head;
}

const COLUMNS = 'position, stream, version, type, data, metadata, recorded_at, horizon';
const XMIN = 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint';

/** The store's statements, prepared by name on each connection. */
export function statements(schema: string) {
  const s = `"${schema}"`;
  return {
    append: `SELECT new_version, new_position, others FROM ${s}.append($1, $2, $3::jsonb, $4)`,
    appendBatch: `SELECT item, new_version, new_position, actual, others FROM ${s}.append_batch($1::jsonb, $2)`,
    /** A feed that LISTENs says so, under the lock appends share (see the append function). */
    register:
      `WITH l AS (SELECT pg_advisory_xact_lock(hashtextextended('${schema} listeners', 0))) ` +
      `INSERT INTO ${s}.listeners (id) SELECT $1 FROM l ON CONFLICT DO NOTHING`,
    unregister: `DELETE FROM ${s}.listeners WHERE id = $1`,
    readStreams:
      `SELECT q.i AS item, e.${COLUMNS.split(', ').join(', e.')}, 0 AS xmin ` +
      `FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS q(stream, after, i) ` +
      `JOIN ${s}.events e ON e.stream = q.stream AND e.version > q.after ORDER BY q.i, e.version`,
    loadSnapshots:
      `SELECT q.i AS item, sn.version, sn.state, sn.saved_at FROM unnest($1::text[]) WITH ORDINALITY AS q(stream, i) ` +
      `JOIN ${s}.snapshots sn ON sn.stream = q.stream`,
    version: `SELECT coalesce(max(version), 0) AS version FROM ${s}.events WHERE stream = $1`,
    readStream: `SELECT ${COLUMNS}, 0 AS xmin FROM ${s}.events WHERE stream = $1 AND version > $2 ORDER BY version`,
    readAll: `SELECT ${COLUMNS}, ${XMIN} AS xmin FROM ${s}.events WHERE position > $1 ORDER BY position LIMIT $2`,
    /**
     * The last position no later append can precede: the newest row whose horizon the
     * snapshot has passed, and the rows after it, for `safePrefix` to extend it through.
     */
    head:
      `WITH base AS (SELECT coalesce((SELECT position FROM ${s}.events WHERE horizon <= ${XMIN} ORDER BY position DESC LIMIT 1), 0) AS p) ` +
      `SELECT base.p AS base, e.position, e.horizon, ${XMIN} AS xmin FROM base LEFT JOIN ${s}.events e ON e.position > base.p ORDER BY e.position`,
    saveSnapshot:
      `INSERT INTO ${s}.snapshots AS sn (stream, version, state, saved_at) VALUES ($1, $2, $3::jsonb, $4) ` +
      'ON CONFLICT (stream) DO UPDATE SET version = excluded.version, state = excluded.state, saved_at = excluded.saved_at ' +
      'WHERE sn.version <= excluded.version',
    loadSnapshot: `SELECT version, state, saved_at FROM ${s}.snapshots WHERE stream = $1`,
  };
}

/**
 * Creates the schema idempotently (and brings a schema of an earlier layout up to date).
 * A global advisory lock serialises concurrent migrations (CREATE … IF NOT EXISTS alone
 * can still race on the catalogue).
 */
export function migrationSql(schema: string): string {
  const s = `"${schema}"`;
  const lit = (text: string) => `'${text}'`; // schema is a plain identifier: no quotes to escape
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('pattern-bench event-store migration', 0));
CREATE SCHEMA IF NOT EXISTS ${s};
-- position: the identity's sequence keeps CACHE 1, so positions are taken in one order
-- across sessions (safePrefix relies on it).
CREATE TABLE IF NOT EXISTS ${s}.events (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream text NOT NULL,
  version bigint NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb,
  recorded_at bigint NOT NULL,
  horizon bigint NOT NULL DEFAULT 0,
  UNIQUE (stream, version)
);
ALTER TABLE ${s}.events ADD COLUMN IF NOT EXISTS horizon bigint NOT NULL DEFAULT 0;
-- The feeds that LISTEN (by id): an append notifies only when a feed other than its own does.
CREATE TABLE IF NOT EXISTS ${s}.listeners (id text PRIMARY KEY);
-- Earlier layouts' signatures (a call with fewer arguments would be ambiguous).
DO $do$ BEGIN
  IF to_regprocedure(${lit(`${s}.append(text,bigint,jsonb)`)}) IS NOT NULL THEN DROP FUNCTION ${s}.append(text, bigint, jsonb); END IF;
END $do$;
CREATE TABLE IF NOT EXISTS ${s}.snapshots (
  stream text PRIMARY KEY,
  version bigint NOT NULL,
  state jsonb NOT NULL,
  saved_at bigint NOT NULL
);
CREATE OR REPLACE FUNCTION ${s}.append(p_stream text, p_expected bigint, p_events jsonb, p_self text DEFAULT NULL)
RETURNS TABLE (new_version bigint, new_position bigint, others boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_current bigint;
  v_now bigint;
  v_positions bigint[];
  v_horizon bigint;
  v_others boolean;
BEGIN
  -- Held until commit, shared with every other append: a feed registering as a listener
  -- waits for the appends under way, and every later append sees it (and notifies).
  PERFORM pg_advisory_xact_lock_shared(hashtextextended(${lit(`${schema} listeners`)}, 0));
  -- One writer per stream at a time (held until commit): the version check cannot race.
  -- Taken before the xid, so that a writer waiting here holds no reader back.
  PERFORM pg_advisory_xact_lock(hashtextextended(${lit(`${schema}/`)} || p_stream, 0));
  SELECT coalesce(max(e.version), 0) INTO v_current FROM ${s}.events e WHERE e.stream = p_stream;
  IF p_expected >= 0 AND v_current <> p_expected THEN
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = '${WRONG_VERSION_SQLSTATE}', DETAIL = v_current::text;
  END IF;
  -- Positions follow xids: the xid and the positions are taken in a critical section of
  -- their own (a session lock held for these two statements only, not until commit), so an
  -- append that takes a lower position has a lower xid. safePrefix relies on it. The xid
  -- must be new here, else it could be older than an earlier section's.
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'append must be the first write of its transaction';
  END IF;
  PERFORM pg_advisory_lock(hashtextextended(${lit(`${schema} positions`)}, 0));
  v_horizon := pg_current_xact_id()::text::bigint;
  SELECT array_agg(x ORDER BY x) INTO v_positions
    FROM (SELECT nextval(${lit(`${s}.events_position_seq`)}::regclass) AS x FROM generate_series(1, jsonb_array_length(p_events))) t;
  PERFORM pg_advisory_unlock(hashtextextended(${lit(`${schema} positions`)}, 0));
  v_now := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  SELECT EXISTS (SELECT 1 FROM ${s}.listeners l WHERE l.id IS DISTINCT FROM p_self) INTO v_others;
  RETURN QUERY
    INSERT INTO ${s}.events AS e (position, stream, version, type, data, metadata, recorded_at, horizon)
    OVERRIDING SYSTEM VALUE
    SELECT v_positions[t.ord], p_stream, v_current + t.ord, t.ev->>'type', t.ev->'data', t.ev->'metadata', v_now, v_horizon
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(ev, ord)
    ORDER BY t.ord
    RETURNING e.version, e.position, v_others;
END
$fn$;
-- Several appends in one transaction (one commit, one flush): each item is
-- {"s": stream, "e": expected version or -1, "ev": [events]}, and each is all or nothing
-- on its own — a conflicting item returns the stream's version in "actual" and writes
-- nothing, the others go on. Items on one stream see the earlier items' events.
CREATE OR REPLACE FUNCTION ${s}.append_batch(p_items jsonb, p_self text DEFAULT NULL)
RETURNS TABLE (item int, new_version bigint, new_position bigint, actual bigint, others boolean)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  v_key bigint;
  v_i int;
  v_stream text;
  v_expected bigint;
  v_current bigint;
  v_versions jsonb := '{}';
  v_ok int[] := '{}';
  v_bases bigint[] := '{}';
  v_total int := 0;
  v_positions bigint[];
  v_horizon bigint;
  v_now bigint;
  v_others boolean;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended(${lit(`${schema} listeners`)}, 0));
  -- Every stream's lock first, in one order, so that two batches cannot deadlock.
  FOR v_key IN SELECT DISTINCT hashtextextended(${lit(`${schema}/`)} || (x->>'s'), 0) AS k FROM jsonb_array_elements(p_items) x ORDER BY k LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  FOR v_i IN 1 .. jsonb_array_length(p_items) LOOP
    v_stream := p_items->(v_i - 1)->>'s';
    v_expected := (p_items->(v_i - 1)->>'e')::bigint;
    v_current := (v_versions->>v_stream)::bigint;
    IF v_current IS NULL THEN
      SELECT coalesce(max(e.version), 0) INTO v_current FROM ${s}.events e WHERE e.stream = v_stream;
    END IF;
    IF v_expected >= 0 AND v_current <> v_expected THEN
      item := v_i; new_version := NULL; new_position := NULL; actual := v_current; others := false;
      RETURN NEXT;
      CONTINUE;
    END IF;
    v_ok := v_ok || v_i;
    v_bases := v_bases || v_current;
    v_total := v_total + jsonb_array_length(p_items->(v_i - 1)->'ev');
    v_versions := v_versions || jsonb_build_object(v_stream, v_current + jsonb_array_length(p_items->(v_i - 1)->'ev'));
  END LOOP;
  IF v_total = 0 THEN
    RETURN;
  END IF;
  -- The same section as append's (see there).
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'append must be the first write of its transaction';
  END IF;
  PERFORM pg_advisory_lock(hashtextextended(${lit(`${schema} positions`)}, 0));
  v_horizon := pg_current_xact_id()::text::bigint;
  SELECT array_agg(x ORDER BY x) INTO v_positions
    FROM (SELECT nextval(${lit(`${s}.events_position_seq`)}::regclass) AS x FROM generate_series(1, v_total)) t;
  PERFORM pg_advisory_unlock(hashtextextended(${lit(`${schema} positions`)}, 0));
  v_now := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  SELECT EXISTS (SELECT 1 FROM ${s}.listeners l WHERE l.id IS DISTINCT FROM p_self) INTO v_others;
  RETURN QUERY
    WITH ok AS (SELECT o.i, o.base FROM unnest(v_ok, v_bases) AS o(i, base)),
    ev AS (
      SELECT ok.i, ok.base + x.ord AS version, x.ev, row_number() OVER (ORDER BY ok.i, x.ord) AS rn
      FROM ok, jsonb_array_elements(p_items->(ok.i - 1)->'ev') WITH ORDINALITY AS x(ev, ord)
    ),
    ins AS (
      INSERT INTO ${s}.events (position, stream, version, type, data, metadata, recorded_at, horizon)
      OVERRIDING SYSTEM VALUE
      SELECT v_positions[ev.rn], p_items->(ev.i - 1)->>'s', ev.version, ev.ev->>'type', ev.ev->'data', ev.ev->'metadata', v_now, v_horizon
      FROM ev ORDER BY ev.rn
    )
    SELECT ev.i, ev.version, v_positions[ev.rn], NULL::bigint, v_others FROM ev ORDER BY ev.rn;
END
$fn$;
COMMIT;`;
}
