/**
 * The Node.js lines the backend supports: the maintained LTS lines, each until the end of life the Node.js release
 * schedule gives it. package.json's `engines` admits exactly these; a line is added when it becomes LTS.
 */
export const MAINTAINED_NODE_LINES: Readonly<Record<number, string>> = { 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' };

/** What to tell the operator when this Node.js is not a maintained LTS line (or no longer one); nothing when it is. */
export function unmaintainedNode(version: string = process.version, today: Date = new Date()): string | undefined {
    const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
    const endOfLife = MAINTAINED_NODE_LINES[major];
    const day = today.toISOString().slice(0, 10);
    if (endOfLife && day <= endOfLife) return undefined;
    const lines = Object.entries(MAINTAINED_NODE_LINES)
        .map(([line, until]) => `${line} (until ${until})`)
        .join(', ');
    return `Node.js ${version} is not a maintained LTS line${endOfLife ? ` (Node ${major} reached its end of life on ${endOfLife})` : ''}: it gets no security fixes. Run the backend on one of ${lines}.`;
}
