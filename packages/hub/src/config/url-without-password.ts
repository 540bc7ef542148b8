/**
 * Text that may hold a URL with credentials (`postgres://user:pw@host`, `nats://u:pw@host`),
 * with each password replaced by `***`: such text reaches terminals, CI logs and error
 * messages. Works on malformed URLs too (a config being explained may not parse).
 */
export function urlWithoutPassword(text: string): string {
  return text.replace(/(\/\/[^/:@\s]*):[^@/\s]*@/g, '$1:***@');
}
