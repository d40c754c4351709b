import pg from 'pg';

/**
 * Counts the statements the pg driver sends (both databases go through it, PGlite by its
 * node-postgres glue) while `work` runs, transaction control (begin, commit) included.
 */
export async function countingStatements<T>(work: () => Promise<T>): Promise<{ value: T; statements: string[] }> {
  const statements: string[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const [first] = args as [string | { text: string }];
    statements.push(typeof first === 'string' ? first : first.text);
    return original.apply(this, args);
  };
  try {
    return { value: await work(), statements };
  } finally {
    proto.query = original;
  }
}
