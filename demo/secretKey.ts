import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateEncryptionKey } from '../server/crypto.ts';

/** Demo only: a key kept beside the data (mode 0600) so a restarted demo can read its own tokens. */
export async function demoEncryptionKey(dataDir: string): Promise<string> {
    const file = path.join(dataDir, 'secret.key');
    try {
        return (await readFile(file, 'utf8')).trim();
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const key = generateEncryptionKey();
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return key;
}
