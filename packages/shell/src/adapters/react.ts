/**
 * The React adapter (`@portico/shell/react`), written with createElement so it needs no JSX
 * build step: `<ShellProvider shell mfeId>` around a micro-frontend, then `useShell()` for its
 * context, `useSubscription()` for push messages and `useBusEvent()` for bus events, each
 * ended when the component unmounts.
 */
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useRef,
  type ReactNode,
} from 'react';
import type { BusEvent, PushMessage, Shell, SubscribeOptions } from '../types.ts';
import { filterAsSent } from '../filter-as-sent.ts';
import { createMfeContext, type MfeContext } from './mfe-context.ts';

const ShellContext = createContext<MfeContext | null>(null);
ShellContext.displayName = 'PorticoShell';

export type ShellProviderProps = { shell: Shell; mfeId: string; children?: ReactNode };

export function ShellProvider({ shell, mfeId, children }: ShellProviderProps): ReactNode {
  const context = useMemo(() => createMfeContext(shell, mfeId), [shell, mfeId]);
  useEffect(() => () => context.release(), [context]);
  return createElement(ShellContext.Provider, { value: context }, children);
}

/** The micro-frontend's context: `shell` (dictionary, api, settings), `mfeId`, `bus`, `subscribe`. */
export function useShell(): MfeContext {
  const context = useContext(ShellContext);
  if (!context) throw new Error('useShell() needs a <ShellProvider> above it');
  return context;
}

/** Push messages on `topicPattern` while the component is mounted (`replay` for the last N). */
export function useSubscription(
  topicPattern: string,
  handler: (message: PushMessage) => void,
  options?: SubscribeOptions,
): void {
  const context = useShell();
  const latest = useLatest(handler);
  // The filter is compared by value: an inline object literal must not resubscribe each render.
  // One that cannot be sent is a ShellError('invalid') here, as from `subscribe`.
  const filterKey =
    options?.filter === undefined ? undefined : JSON.stringify(filterAsSent(options.filter));
  const replay = options?.replay;
  useEffect(
    () =>
      context.subscribe(topicPattern, (message) => latest.current(message), {
        ...(replay !== undefined && { replay }),
        ...(filterKey !== undefined && { filter: JSON.parse(filterKey) as unknown }),
      }),
    [context, topicPattern, replay, filterKey, latest],
  );
}

/** Bus events matching `typePattern` while the component is mounted. */
export function useBusEvent(typePattern: string, handler: (event: BusEvent) => void): void {
  const context = useShell();
  const latest = useLatest(handler);
  useEffect(
    () => context.bus.subscribe(typePattern, (event) => latest.current(event)),
    [context, typePattern, latest],
  );
}

/** The handler of the last render, so a new inline function does not resubscribe. */
function useLatest<T>(value: T): { current: T } {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}
