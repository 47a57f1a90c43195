import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for tests: DATABASE_URL names a server; every test run gets a database of its own,
 * created here and dropped when it is done, so runs never see each other's rows.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL;

export const PG_SKIP = TEST_DATABASE_URL
    ? false
    : 'DATABASE_URL is not set: the PostgreSQL store was NOT tested. Run PostgreSQL and set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (.ci/run does both).';

let warned = false;
/** Says loudly, once per test file, what did not run. */
export function warnIfNoPostgres(): void {
    if (TEST_DATABASE_URL || warned) return;
    warned = true;
    process.stderr.write(`\n*** ${PG_SKIP} ***\n\n`);
}

const withDatabase = (url: string, database: string): string => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
};

export interface TestDatabase {
    url: string;
    drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
    if (!TEST_DATABASE_URL) throw new Error(String(PG_SKIP));
    const name = `ccl_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
        await admin.query(`CREATE DATABASE ${name}`);
    } finally {
        await admin.end();
    }
    return {
        url: withDatabase(TEST_DATABASE_URL, name),
        async drop() {
            const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
            await client.connect();
            try {
                // A pool's end() resolves before its sockets have closed; terminating a connection that is
                // still closing makes its client emit an error after the test. Let them go first.
                for (let i = 0; i < 60; i++) {
                    const { rows } = await client.query<{ n: number }>(
                        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
                        [name]
                    );
                    if (rows[0]!.n === 0) break;
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
                await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            } finally {
                await client.end();
            }
        }
    };
}
