/**
 * An error the operating system returned (a file, a port, a host name): the user's
 * environment to fix, worth one line rather than a stack trace.
 */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string'
  );
}
