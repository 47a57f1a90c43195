import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../config.ts';
import { moveToPostgres, MoveRefused, restoreFromBackup, type TableCheck } from '../store/move.ts';
import { BackupNotFound, dropBackup, listBackups } from '../store/pgBackups.ts';
import { migrate, PgStore, type LiveLease } from '../store/pgStore.ts';
import { printable, printableLine } from '../text.ts';

const USAGE = `Usage: npm run store -- <command> [options]

  migrate                          apply the PostgreSQL schema's pending migrations (DATABASE_URL);
                                   the server also applies them when it starts
  move --from DIR --to URL [--force]
                                   copy a lowdb data directory (DATA_DIR) into PostgreSQL, sealed values
                                   as they are; prints rows and a checksum per table. Safe to run again:
                                   refuses a target that holds other rows unless --force (which replaces them
                                   and keeps them in a backup schema it names); refuses a folder without
                                   db.json, and any move while a backend runs on the folder or the database
  backups                          list the backups that move --force and restore kept, with their rows
  restore --backup NAME            put a backup's rows back (what it replaces is kept as another backup)
  drop-backup --backup NAME        delete a backup you no longer need

--to defaults to DATABASE_URL, --from to DATA_DIR.`;

const table = (checks: TableCheck[]): string[] => [
    'table          source   target   checksum           ',
    ...checks.map(
        (c) =>
            `${c.table.padEnd(14)} ${String(c.source).padStart(6)}   ${String(c.target).padStart(6)}   ${c.checksum}   ${c.same ? 'same' : 'DIFFERENT'}`
    )
];

const keptLine = (backup: string): string =>
    `The rows it replaced are kept in the schema ${backup}: "npm run store -- restore --backup ${backup}" puts them back.`;

/** Which instances hold a live lease on the database (each running backend renews one every few seconds). */
const inUse = (leases: LiveLease[]): string[] => [
    `Error: ${leases.length === 1 ? 'a backend instance is' : `${leases.length} backend instances are`} running on this database. Nothing was changed. Stop ${leases.length === 1 ? 'it' : 'them'} first:`,
    ...leases.map((l) => `  ${l.holder} (host:pid:id), alive until ${l.until}`),
    'A backend that stopped without saying so is taken for dead 10 seconds after its last heartbeat.'
];

export async function runStoreCommand(
    argv: string[],
    env: Record<string, string | undefined>,
    write: (line: string) => void
): Promise<number> {
    // Nothing reaches the terminal raw (text.ts): names, paths and reasons may hold anything.
    const out = (line: string) => write(printableLine(line));
    const { positionals, values } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            from: { type: 'string' },
            to: { type: 'string' },
            force: { type: 'boolean' },
            backup: { type: 'string' },
            help: { type: 'boolean', short: 'h' }
        }
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
            let result;
            try {
                result = await moveToPostgres(from, url, { force: values.force });
            } catch (error) {
                if (!(error instanceof MoveRefused)) throw error;
                out(`Error: ${error.message}`);
                return error.exitCode;
            }
            for (const line of table(result.checks)) out(line);
            switch (result.outcome) {
                case 'moved':
                    out(
                        `Moved ${from} into PostgreSQL; every table has the source's rows and checksum. Start the server with DATABASE_URL set (and the same TOKEN_ENCRYPTION_KEY).`
                    );
                    if (result.backup) out(keptLine(result.backup));
                    return 0;
                case 'already_there':
                    out('The database already holds exactly this data directory: nothing to do.');
                    return 0;
                case 'refused_not_empty':
                    out(
                        'Error: the database already holds other rows. Nothing was changed. Run again with --force to replace them with this data directory (they are kept in a backup schema).'
                    );
                    return 1;
                case 'refused_in_use':
                    for (const line of inUse(result.liveLeases ?? [])) out(line);
                    return 1;
                case 'mismatch':
                    out('Error: the copy does not match the source (see DIFFERENT above). Do not switch over; report this.');
                    if (result.backup) out(keptLine(result.backup));
                    return 1;
            }
            return 1;
        }
        case 'backups': {
            const store = await PgStore.open(url);
            try {
                const backups = await listBackups(store.pool);
                if (backups.length === 0) out('No backups in this database.');
                for (const b of backups)
                    out(
                        `${b.name}\t${Object.entries(b.rows)
                            .map(([t, n]) => `${t} ${n}`)
                            .join(', ')}\t${b.reason}`
                    );
            } finally {
                await store.close();
            }
            return 0;
        }
        case 'restore':
        case 'drop-backup': {
            if (!values.backup) {
                out(`Error: name the backup with --backup NAME ("npm run store -- backups" lists them).`);
                return 2;
            }
            try {
                if (command === 'drop-backup') {
                    const store = await PgStore.open(url);
                    try {
                        await dropBackup(store.pool, values.backup);
                    } finally {
                        await store.close();
                    }
                    out(`Dropped the backup ${values.backup}.`);
                    return 0;
                }
                const result = await restoreFromBackup(url, values.backup);
                for (const line of table(result.checks)) out(line);
                if (result.outcome === 'refused_in_use') {
                    for (const line of inUse(result.liveLeases ?? [])) out(line);
                    return 1;
                }
                out(
                    result.outcome === 'restored'
                        ? `Restored the rows of ${values.backup}; every table has the backup's rows and checksum.`
                        : 'Error: the restored rows do not match the backup (see DIFFERENT above); report this.'
                );
                if (result.backup) out(keptLine(result.backup));
                return result.outcome === 'restored' ? 0 : 1;
            } catch (error) {
                if (!(error instanceof BackupNotFound)) throw error;
                out(`Error: ${error.message}`);
                return 2;
            }
        }
        default:
            out(`Unknown command "${printable(command)}".\n\n${USAGE}`);
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
