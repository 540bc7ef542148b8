/** Errors the shell throws, with a stable `code` callers can branch on. */
export type ShellErrorCode = 'unknown-api' | 'http' | 'closed' | 'invalid';

export class ShellError extends Error {
  readonly code: ShellErrorCode;
  readonly status: number | undefined;

  constructor(code: ShellErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'ShellError';
    this.code = code;
    this.status = status;
  }
}
