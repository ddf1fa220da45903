// Opens the embedded SQLite database: one file in the data dir, WAL so readers never block the
// single writer, foreign keys on, and a busy timeout so a second process (worker + server) waits
// for the write lock instead of failing at once.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database, { type Statement } from 'better-sqlite3';
import { SetupError, userMessage } from '../../errors.js';

export const DATABASE_FILE = 'vidsearch.db';
const BUSY_TIMEOUT_MS = 5_000;

export type SqliteDatabase = Database.Database;

export function openDatabase(dataDir: string): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(path.join(dataDir, DATABASE_FILE));
  } catch (err) {
    throw new SetupError(`cannot open the data dir ${dataDir} (VIDSEARCH_DATA_DIR): ${userMessage(err)}`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL + NORMAL is durable across application crashes; only an OS crash can lose the last commit.
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Prepared statements of one connection by SQL text, for the reads every request makes: preparing
 * costs ~50–200 µs, as much as the point read itself. Only for SQL from a fixed set of texts (a
 * list binds as one JSON parameter, IN_JSON_LIST, so its length does not change the text), run to
 * completion with get/all/run: never iterated (a second caller would find it busy) nor given a mode.
 */
export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: SqliteDatabase) {}

  get(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Binds a list as ONE parameter (`IN (SELECT value FROM json_each(?))`), so lists of any size fit. */
export function jsonList(values: readonly (string | number)[]): string {
  return JSON.stringify(values);
}

export const IN_JSON_LIST = '(SELECT value FROM json_each(?))';
