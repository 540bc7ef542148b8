/** React's CommonJS build reads process.env.NODE_ENV; a browser has no process. Import first. */
const scope = globalThis as { process?: { env: Record<string, string> } };
scope.process ??= { env: { NODE_ENV: 'development' } };
