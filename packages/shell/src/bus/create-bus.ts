/**
 * The client event bus: micro-frontend ↔ micro-frontend events inside one page.
 *
 * Delivery is asynchronous (one microtask per publish), so a publisher never re-enters its
 * own code through a subscriber, and events reach every subscriber in publish order. A
 * subscriber that throws (or whose promise rejects) is reported and never stops the others.
 * In development the payload is checked against the catalog's contract after it is
 * delivered; the check never changes what is delivered, so dev and production behave alike.
 */
import { ShellError } from '../shell-error.ts';
import type { BusEvent, ClientBus, ContractViolation } from '../types.ts';
import { bridgeSlot, type BridgeSlot } from './bridge-slot.ts';
import type { ContractChecker } from './contract-checker.ts';
import type { EventContracts } from './contracts.ts';
import { describeViolation } from './describe-violation.ts';
import { normalizeOrigin } from './origin.ts';
import { compileTypePattern, eventTypeProblem, typePatternProblem } from './type-pattern.ts';

export type HandlerErrorReport = {
  error: unknown;
  event: BusEvent;
  /** The pattern the failing subscriber gave. */
  pattern: string;
  /** The failing subscriber's micro-frontend, when it said (`subscribe(…, { mfeId })`). */
  mfeId?: string;
};

export type BusOptions = {
  /** Check payloads and publishers against the catalog's contracts and report violations. */
  dev: boolean;
  /** The contracts to check against (usually the hub's `GET /v1/catalog/contracts` events). */
  loadContracts?: () => Promise<EventContracts>;
  /** Origins `bridgeIframe` may bridge; none by default. */
  bridgeOrigins?: string[];
  /** Where a throwing subscriber is reported; default console.error. */
  onHandlerError?: (report: HandlerErrorReport) => void;
};

export type Bus = ClientBus & {
  /** The iframe bridge's allow-list and listener (see bridgeIframe). */
  readonly [bridgeSlot]: BridgeSlot;
  /** Stops delivery; later publishes throw ShellError('closed'). */
  close(): void;
};

type Subscription = {
  pattern: string;
  matches: (type: string) => boolean;
  handler: (event: BusEvent) => void;
  mfeId: string | undefined;
  active: boolean;
};

export function createBus(options: BusOptions): Bus {
  const subscriptions = new Set<Subscription>();
  const violationListeners = new Set<(v: ContractViolation) => void>();
  const bridge: BridgeSlot = {
    origins: Object.freeze((options.bridgeOrigins ?? []).map(normalizeOrigin)),
    host: undefined,
    refusalListeners: new Set(),
  };
  const reportHandlerError =
    options.onHandlerError ??
    ((r: HandlerErrorReport) =>
      console.error(
        `[portico bus] a subscriber${r.mfeId ? ` of ${r.mfeId}` : ''} to "${r.pattern}" failed on ${
          r.event.type
        } (sent by ${r.event.from ?? 'an unnamed sender'})`,
        r.error,
      ));
  let closed = false;
  let checker: Promise<ContractChecker | undefined> | undefined;

  const loadChecker = () =>
    (checker ??= loadContractChecker(options.loadContracts).catch((error: unknown) => {
      console.warn(
        '[portico bus] dev mode: the contracts could not be loaded; payloads are not checked',
        error,
      );
      return undefined;
    }));
  if (options.dev) void loadChecker();

  const reportViolation = (violation: ContractViolation) => {
    console.warn(`[portico bus] ${describeViolation(violation)}`);
    for (const listener of [...violationListeners]) {
      try {
        listener(violation);
      } catch (error) {
        console.error('[portico bus] a violation listener threw', error);
      }
    }
  };

  const deliver = (event: BusEvent, targets: Subscription[]) => {
    for (const target of targets) {
      // Unsubscribed between publish and delivery: the handler must not run after unsubscribe.
      if (!target.active) continue;
      const report = (error: unknown) =>
        reportHandlerError({
          error,
          event,
          pattern: target.pattern,
          ...(target.mfeId !== undefined && { mfeId: target.mfeId }),
        });
      try {
        const result: unknown = target.handler(event);
        if (isPromiseLike(result)) result.then(undefined, report);
      } catch (error) {
        report(error);
      }
    }
  };

  return {
    [bridgeSlot]: bridge,

    publish(type, data, publishOptions) {
      if (closed) throw new ShellError('closed', 'the bus is closed');
      const problem = eventTypeProblem(type);
      if (problem) throw new ShellError('invalid', `bus event type "${String(type)}" ${problem}`);
      const from = publishOptions?.from;
      const event: BusEvent = Object.freeze({
        type,
        data,
        time: new Date().toISOString(),
        ...(from !== undefined && { from }),
      });
      // Subscribers as of the publish: one that subscribes in between does not get it.
      const targets: Subscription[] = [];
      for (const s of subscriptions) if (s.matches(type)) targets.push(s);
      if (targets.length) queueMicrotask(() => deliver(event, targets));
      if (options.dev && options.loadContracts)
        void loadChecker().then((c) => {
          const violation = c?.check(event);
          if (violation) reportViolation(violation);
        });
    },

    subscribe(typePattern, handler, subscribeOptions) {
      if (closed) throw new ShellError('closed', 'the bus is closed');
      const problem = typePatternProblem(typePattern);
      if (problem)
        throw new ShellError('invalid', `bus type pattern "${String(typePattern)}" ${problem}`);
      if (typeof handler !== 'function')
        throw new ShellError('invalid', 'the handler must be a function');
      const subscription: Subscription = {
        pattern: typePattern,
        matches: compileTypePattern(typePattern),
        handler,
        mfeId: subscribeOptions?.mfeId,
        active: true,
      };
      subscriptions.add(subscription);
      return () => {
        subscription.active = false;
        subscriptions.delete(subscription);
      };
    },

    onViolation(listener) {
      violationListeners.add(listener);
      return () => violationListeners.delete(listener);
    },

    close() {
      closed = true;
      bridge.host?.close();
      for (const s of subscriptions) s.active = false;
      subscriptions.clear();
      violationListeners.clear();
    },
  };
}

async function loadContractChecker(
  loadContracts: (() => Promise<EventContracts>) | undefined,
): Promise<ContractChecker | undefined> {
  if (!loadContracts) return undefined;
  const [module, contracts] = await Promise.all([import('./contract-checker.ts'), loadContracts()]);
  return module.createContractChecker(contracts);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
