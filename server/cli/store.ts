import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../config.ts';
import { moveToPostgres, type TableCheck } from '../store/move.ts';
import { migrate } from '../store/pgStore.ts';

const USAGE = `Usage: npm run store -- <command> [options]

  migrate                          apply the PostgreSQL schema's pending migrations (DATABASE_URL);
                                   the server also applies them when it starts
  move --from DIR --to URL [--force]
                                   copy a lowdb data directory (DATA_DIR) into PostgreSQL, sealed values
                                   as they are; prints rows and a checksum per table. Safe to run again:
                                   refuses a target that holds other rows unless --force (which replaces them)

--to defaults to DATABASE_URL, --from to DATA_DIR.`;

const table = (checks: TableCheck[]): string[] => [
    'table          source   target   checksum           ',
    ...checks.map(
        (c) =>
            `${c.table.padEnd(14)} ${String(c.source).padStart(6)}   ${String(c.target).padStart(6)}   ${c.checksum}   ${c.same ? 'same' : 'DIFFERENT'}`
    )
];

export async function runStoreCommand(
    argv: string[],
    env: Record<string, string | undefined>,
    out: (line: string) => void
): Promise<number> {
    const { positionals, values } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { from: { type: 'string' }, to: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
    });
    const command = positionals[0];
    if (values.help || !command) {
        out(USAGE);
        return command ? 0 : 2;
    }
    const config = parseConfig(env);
    const url = values.to ?? config.DATABASE_URL;
    if (!url || !/^postgres(ql)?:\/\//.test(url)) {
        out('Error: name the PostgreSQL database with --to postgres://… or DATABASE_URL.');
        return 2;
    }
    switch (command) {
        case 'migrate':
            await migrate(url, out);
            out('The schema is up to date.');
            return 0;
        case 'move': {
            const from = values.from ?? env.DATA_DIR;
            if (!from) {
                out('Error: name the data directory with --from DIR or DATA_DIR.');
                return 2;
            }
            const result = await moveToPostgres(from, url, { force: values.force });
            for (const line of table(result.checks)) out(line);
            switch (result.outcome) {
                case 'moved':
                    out(
                        `Moved ${from} into PostgreSQL; every table has the source's rows and checksum. Start the server with DATABASE_URL set (and the same TOKEN_ENCRYPTION_KEY).`
                    );
                    return 0;
                case 'already_there':
                    out('The database already holds exactly this data directory: nothing to do.');
                    return 0;
                case 'refused_not_empty':
                    out(
                        'Error: the database already holds other rows. Nothing was changed. Run again with --force to replace them with this data directory.'
                    );
                    return 1;
                case 'mismatch':
                    out('Error: the copy does not match the source (see DIFFERENT above). Do not switch over; report this.');
                    return 1;
            }
            return 1;
        }
        default:
            out(`Unknown command "${command}".\n\n${USAGE}`);
            return 2;
    }
}

if (process.argv[1]?.endsWith('store.ts') || process.argv[1]?.endsWith('store.js')) {
    runStoreCommand(process.argv.slice(2), process.env, (line) => console.log(line)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error(error instanceof ConfigError ? error.message : error instanceof Error ? `Error: ${error.message}` : error);
            process.exit(1);
        }
    );
}
