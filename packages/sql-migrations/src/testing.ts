/**
 * Test helpers (`@prismq/sql-migrations/testing`) for every store's PostgreSQL tests: a fresh schema per
 * test, so tests never share state, all dropped when the suite ends. Like the runner, it imports no
 * driver: the caller hands it a way to make a pg `Client`. Never imported by the runner itself.
 */
import { randomBytes } from "node:crypto";

/** What dropping the schemas needs of a pg `Client`: a new, unconnected one for each `drop`. */
export interface AdminClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<unknown>;
}

/** Unique PostgreSQL schema names for one suite, and their removal. */
export interface TestSchemas {
  /** A new schema name, `prefix` and 12 random hex digits; `drop` removes it. The schema itself is made by whoever opens it. */
  next(): string;
  /** Drops (CASCADE) every schema `next` named since the last `drop`; connects only when there is one. */
  drop(): Promise<void>;
}

/**
 * Schema names starting with `prefix` (lowercase letters, digits and `_`: it is written into SQL as is),
 * dropped through a client from `client`.
 */
export function testSchemas(prefix: string, client: () => AdminClient): TestSchemas {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`invalid schema prefix ${JSON.stringify(prefix)}`);
  const schemas: string[] = [];
  return {
    next() {
      const schema = `${prefix}${randomBytes(6).toString("hex")}`;
      schemas.push(schema);
      return schema;
    },
    async drop() {
      if (schemas.length === 0) return;
      const admin = client();
      await admin.connect();
      try {
        for (const s of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
