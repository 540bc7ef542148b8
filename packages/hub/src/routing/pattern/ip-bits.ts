/**
 * IP addresses and CIDR blocks as bit strings tagged with the family ("4" + 32 bits, or
 * "6" + 128 bits), so that "address in block" is "bit string starts with block prefix"
 * and CIDR rules can sit in the same prefix index as string prefixes.
 *
 * Hand-written rather than ipaddr.js: this runs on every string leaf of a field that has
 * CIDR rules, and must not throw (and build stack traces) for the many that are not IPs.
 * Accepted: dotted-quad IPv4 (no leading zeros), IPv6 with `::`, an embedded IPv4 tail
 * and an optional `%zone` (ignored).
 */

/** The tagged bit string of an address, or undefined if `text` is not one. */
export function addressBits(text: string): string | undefined {
  const v4 = parseIPv4(text, 0, text.length);
  if (v4 >= 0) return '4' + v4.toString(2).padStart(32, '0');
  const groups = parseIPv6(text);
  if (groups === undefined) return undefined;
  let bits = '6';
  for (const group of groups) bits += group.toString(2).padStart(16, '0');
  return bits;
}

/** The tagged bit prefix of a CIDR block (or of a single address: its full length). */
export function cidrBits(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  if (address.includes('%')) return undefined;
  const bits = addressBits(address);
  if (bits === undefined) return undefined;
  if (slash < 0) return bits;
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length > bits.length - 1) return undefined;
  return bits.slice(0, 1 + length);
}

/** The address as an unsigned 32-bit number, or -1. Leading zeros are refused unless asked for. */
function parseIPv4(text: string, start: number, end: number, leadingZeros = false): number {
  let value = 0;
  let parts = 0;
  let i = start;
  while (parts < 4) {
    const partStart = i;
    let part = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      part = part * 10 + (c - 0x30);
      i++;
    }
    const digits = i - partStart;
    if (digits === 0 || digits > 3 || part > 255) return -1;
    if (!leadingZeros && digits > 1 && text.charCodeAt(partStart) === 0x30) return -1;
    value = value * 256 + part;
    parts++;
    if (parts < 4) {
      if (text.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
  }
  return i === end ? value : -1;
}

function parseIPv6(text: string): number[] | undefined {
  let end = text.indexOf('%');
  if (end === 0) return undefined;
  if (end < 0) end = text.length;
  else if (!/^[0-9a-z]+$/i.test(text.slice(end + 1))) return undefined; // zone ids as ipaddr.js accepts them
  if (end < 2 || text.indexOf(':') < 0) return undefined;

  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let sawDoubleColon = false;
  let i = 0;
  if (text.startsWith('::')) {
    sawDoubleColon = true;
    groups = tail;
    i = 2;
    if (i === end) return new Array(8).fill(0);
  } else if (text.charCodeAt(0) === 0x3a) {
    return undefined;
  }
  for (;;) {
    // A dotted-quad tail stands for the last two groups.
    const nextColon = text.indexOf(':', i);
    if (nextColon < 0 || nextColon >= end) {
      const dot = text.indexOf('.', i);
      if (dot >= 0 && dot < end) {
        // ipaddr.js (and so the reference interpreter) reads leading zeros here as decimal.
        const v4 = parseIPv4(text, i, end, true);
        if (v4 < 0) return undefined;
        groups.push(Math.floor(v4 / 65536), v4 % 65536);
        break;
      }
    }
    let group = 0;
    let digits = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      const d =
        c >= 0x30 && c <= 0x39
          ? c - 0x30
          : c >= 0x61 && c <= 0x66
            ? c - 87
            : c >= 0x41 && c <= 0x46
              ? c - 55
              : -1;
      if (d < 0) break;
      group = group * 16 + d;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 4) return undefined;
    groups.push(group);
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (text.charCodeAt(i) === 0x3a) {
      if (sawDoubleColon) return undefined;
      sawDoubleColon = true;
      groups = tail;
      i++;
      if (i === end) break;
    }
  }
  const total = head.length + tail.length;
  if (sawDoubleColon ? total > 7 : total !== 8) return undefined;
  return [...head, ...new Array(8 - total).fill(0), ...tail];
}
