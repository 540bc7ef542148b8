/** The public types of the shell SDK (the agreed API of issue #9). */

export type ShellOptions = {
  /** Hub base URL, e.g. `http://127.0.0.1:8080`. */
  hub: string;
  /** Vertical split: only this micro-frontend's dictionary entries (`GET /v1/dictionary?app=`). */
  app?: string;
  /** Bearer token for hub calls (dictionary, stream tickets, control endpoint, catalog). */
  getToken: () => string | Promise<string>;
  /** Push wire; default `sse`. */
  transport?: 'sse' | 'ws';
  /** Override set id; else the URL flag `?portico-override=<id>`, else the cookie `portico-override`. */
  override?: string;
  /** Default true: one hub connection for all tabs of this origin (Web Locks + BroadcastChannel). */
  crossTab?: boolean;
  /** Validate bus payloads against the catalog's contracts and report violations. */
  dev?: boolean;
  /** Origins allowed on the iframe bridge. */
  bridgeOrigins?: string[];
};

export type CloudEvent = {
  specversion: string;
  id: string;
  source: string;
  type: string;
  data?: unknown;
  [attribute: string]: unknown;
};

export type PushMessage = {
  topic: string;
  position: number | string;
  event: CloudEvent;
  /** Set on messages replayed to a late subscriber (`replay: N`). */
  replayed?: boolean;
};

export type ConnectionState = {
  readonly state: 'connecting' | 'open' | 'closed';
  /** Whether this tab holds the hub connection (always true with `crossTab: false`). */
  readonly leader: boolean;
};

export type SubscribeOptions = {
  /** Deliver the last N matching messages first (served from the hub's log or the local buffer). */
  replay?: number;
  /** An EventBridge content filter on the CloudEvent (see the hub's push README). */
  filter?: unknown;
};

/** The body of `GET /v1/dictionary`, as the hub returns it. */
export type DictionaryView = {
  tenant: string;
  app?: string;
  domains: {
    name: string;
    apis: {
      name: string;
      description?: string;
      versions: {
        version: string;
        baseUrl: string;
        status: 'stable' | 'deprecated' | 'sunset';
        deprecation?: string;
        sunset?: string;
        link?: string;
      }[];
    }[];
  }[];
  settings: Record<string, unknown>;
  override?: { id: string; name: string; expiresAt: string };
};

export type BusEvent = { type: string; data: unknown; from?: string; time: string };

export type ContractViolation = {
  type: string;
  from?: string;
  errors: { pointer: string; detail: string }[];
};

export type ClientBus = {
  publish(type: string, data: unknown, options?: { from?: string }): void;
  subscribe(
    typePattern: string,
    handler: (e: BusEvent) => void,
    options?: { mfeId?: string },
  ): () => void;
  onViolation(listener: (v: ContractViolation) => void): () => void;
};

export type Shell = {
  readonly dictionary: DictionaryView;
  /** The version's base URL (absolute); throws `ShellError` with code `unknown-api` if absent. */
  api(name: string, version: string): string;
  /** Server-driven client settings for this app. */
  settings(): Record<string, unknown>;
  subscribe(
    mfeId: string,
    topicPattern: string,
    handler: (message: PushMessage) => void,
    options?: SubscribeOptions,
  ): () => void;
  readonly bus: ClientBus;
  readonly connection: ConnectionState;
  onConnectionChange(listener: (c: ConnectionState) => void): () => void;
  close(): Promise<void>;
};
