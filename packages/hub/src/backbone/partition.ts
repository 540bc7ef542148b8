/**
 * Partition choice shared by every EventLog engine: FNV-1a (32-bit) over the UTF-8 bytes
 * of the partition key, modulo the partition count. Stable across processes, versions
 * and engines, so a key keeps its partition when a deployment moves from SQLite to NATS.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Keys are nearly always ASCII; fall back to real UTF-8 bytes otherwise.
    if (code >= 0x80) return fnv1a32Bytes(Buffer.from(text, 'utf8'));
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  return hash >>> 0;
}

function fnv1a32Bytes(bytes: Uint8Array): number {
  let hash = FNV_OFFSET;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME);
  return hash >>> 0;
}

export function partitionFor(partitionKey: string, partitions: number): number {
  return fnv1a32(partitionKey) % partitions;
}
