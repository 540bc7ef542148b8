/**
 * The bus typed with the portal's contracts: `portico types` writes `PortalEvents` (event type
 * → type of its `data`) from the catalog, and `typedBus<PortalEvents>(shell.bus)` makes a
 * wrong payload or an unknown type a compile error. Wildcard patterns are matched at the type
 * level too, so a `incident.*.created` handler gets the union of the matching events.
 * Nothing happens at run time: it is the same bus.
 */
import type { BusEvent, ClientBus } from '../types.ts';

type Segments<S extends string> = S extends `${infer Head}.${infer Rest}`
  ? [Head, ...Segments<Rest>]
  : [S];

type SegmentsMatch<T extends string[], P extends string[]> = P extends ['>']
  ? T extends [string, ...string[]]
    ? true
    : false
  : P extends [infer PH, ...infer PR extends string[]]
    ? T extends [infer TH, ...infer TR extends string[]]
      ? PH extends '*' | TH
        ? SegmentsMatch<TR, PR>
        : false
      : false
    : T extends []
      ? true
      : false;

/** The event types of `E` that `Pattern` matches (`*` one segment, `>` the rest). */
export type MatchingTypes<E, Pattern extends string> = {
  [K in keyof E & string]: SegmentsMatch<Segments<K>, Segments<Pattern>> extends true ? K : never;
}[keyof E & string];

/** A bus event of one of the types `K`, its `data` typed by the contracts. */
export type TypedBusEvent<E, K extends keyof E & string> = {
  [T in K]: Omit<BusEvent, 'type' | 'data'> & { type: T; data: E[T] };
}[K];

export type TypedBus<E> = {
  publish<T extends keyof E & string>(type: T, data: E[T], options?: { from?: string }): void;
  subscribe<P extends string>(
    typePattern: P,
    handler: (event: TypedBusEvent<E, MatchingTypes<E, P>>) => void,
    options?: { mfeId?: string },
  ): () => void;
  onViolation: ClientBus['onViolation'];
};

export function typedBus<E>(bus: ClientBus): TypedBus<E> {
  return bus as unknown as TypedBus<E>;
}
