import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface SpawnedBackend {
    child: ChildProcess;
    port: number;
    url: string;
}

/**
 * Starts `server/main.ts` in a process of its own and waits until it says, over IPC, that it listens and on which
 * port. With PORT=0 the process picks a free port itself, so no other test can take the port between a probe and the
 * listen, and what answers at the URL is this process (a /healthz poll could reach another test's backend).
 */
export function spawnBackend(
    env: Record<string, string | undefined>,
    options: {
        port?: number;
        timeoutMs?: number;
        onOutput?: (chunk: Buffer) => void;
        /** What node runs (default: server/main.ts through tsx), and whether the test's own environment is passed on. */
        args?: string[];
        inheritEnv?: boolean;
    } = {}
): Promise<SpawnedBackend> {
    const child = spawn(process.execPath, options.args ?? ['--import', 'tsx', MAIN], {
        env: { ...(options.inheritEnv === false ? {} : process.env), ...env, PORT: String(options.port ?? 0) },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    });
    let output = '';
    const keep = (chunk: Buffer) => {
        options.onOutput?.(chunk);
        output = (output + chunk.toString()).slice(-3000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return new Promise<SpawnedBackend>((resolve, reject) => {
        const fail = (why: string) => {
            clearTimeout(timer);
            child.kill('SIGKILL');
            reject(new Error(`the backend did not start: ${why}\n${output}`));
        };
        // A busy two-core machine compiles several processes' TypeScript at once.
        const timer = setTimeout(() => fail('no answer in time'), options.timeoutMs ?? 60_000);
        child.once('exit', (code, signal) => fail(`it exited (${signal ?? code})`));
        child.on('message', (message: { type?: string; port?: number }) => {
            if (message.type !== 'listening' || typeof message.port !== 'number') return;
            clearTimeout(timer);
            child.removeAllListeners('exit');
            child.disconnect();
            resolve({ child, port: message.port, url: `http://127.0.0.1:${message.port}` });
        });
    });
}
