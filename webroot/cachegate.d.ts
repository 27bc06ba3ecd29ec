// Types of cachegate.js, the client of the cachegate stream (docs/client.md).

/** A notice: something changed, drop what it names. */
export interface InvalidateFrame {
  type: 'invalidate';
  /** Sortable across every instance; resume with it as `since`. */
  id: string;
  keys: string[];
  tags: string[];
  prefixes: string[];
  cause: { source: 'db' | 'api' | 'event'; table?: string; op?: string; event?: string; reason?: string };
  /** Epoch milliseconds when the notice was written. */
  at: number;
  /** A soft invalidation: copies may be served, marked stale, until refreshed. */
  soft?: boolean;
}

/** Drop everything: the gateway could not replay what this client missed. */
export interface ResetFrame { type: 'reset'; reason?: string }

export interface SubscribedFrame { type: 'subscribed'; id?: string; position: string; recovered: boolean }

export interface ErrorFrame { type: 'error'; id?: string; error?: string; code?: string; message: string }

export interface CloseEvent { code?: number; reason?: string }

export type State = 'connecting' | 'connected' | 'disconnected';

export interface Names { keys?: string[]; tags?: string[]; prefixes?: string[] }

export interface ClientEvents {
  invalidate: InvalidateFrame;
  reset: ResetFrame;
  subscribed: SubscribedFrame;
  error: ErrorFrame;
  close: CloseEvent;
  state: State;
}

export interface ConnectOptions {
  /** `ws(s)://host/v1/stream`, or a path relative to the page. */
  url: string;
  /** A stream token or an API key with the read scope; or a function (may be async) asked on every (re)connect. */
  token?: string | (() => string | Promise<string>);
  /** Every notice in full (dashboards, trusted services). */
  all?: boolean;
  /** A WebSocket constructor (Node, tests); default: the global one. */
  WebSocket?: unknown;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Share one socket among the tabs of an origin: default true in browsers, false elsewhere. */
  shared?: boolean;
  /** The channel the tabs talk on; default: the global BroadcastChannel (null: none, never shared). */
  BroadcastChannel?: unknown;
  /** The Web Locks manager that elects the holder; default `navigator.locks` (null: elect on the channel). */
  locks?: unknown;
}

/** What every client offers, whether it holds a socket of its own or shares one. */
export interface StreamClient {
  readonly state: State;
  /** The id of the last notice seen. */
  readonly position: string | null;
  subscribe(names: Names): void;
  unsubscribe(names: Names): void;
  on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): () => void;
  off<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): void;
  close(): void;
}

/** One socket of its own. */
export declare class Client implements StreamClient {
  constructor(options: ConnectOptions);
  readonly state: State;
  readonly position: string | null;
  subscribe(names: Names): void;
  unsubscribe(names: Names): void;
  /** Follow every notice in full, or stop. */
  setAll(on: boolean): void;
  on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): () => void;
  off<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): void;
  close(): void;
}

/** A tab's client when the tabs share one socket. */
export declare class SharedClient implements StreamClient {
  constructor(options: ConnectOptions, channel: { BroadcastChannel: unknown; locks?: unknown });
  readonly state: State;
  readonly position: string | null;
  /** Whether this tab holds the browser's stream connection. */
  readonly holding: boolean;
  subscribe(names: Names): void;
  unsubscribe(names: Names): void;
  on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): () => void;
  off<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): void;
  close(): void;
}

export declare function connect(options: ConnectOptions): Client | SharedClient;

/** Full-jitter exponential backoff: attempt n waits uniformly in [base, min(max, base * 2^n)]. */
export declare function backoffDelay(attempt: number, baseMs?: number, maxMs?: number, random?: () => number): number;

/** Whether a notice concerns a cached entry: its key, one of its tags, or a prefix of its key. */
export declare function noticeCovers(frame: Pick<InvalidateFrame, 'keys' | 'tags' | 'prefixes'>, key: string, tags?: string[]): boolean;

export interface CacheEntry<T = unknown> { url: string; tags: string[]; etag: string | null; body: T; stale: boolean }

export interface Cache {
  readonly entries: Map<string, CacheEntry>;
  /** The response body for url, from the cache when nothing invalidated it. */
  cachedFetch<T = unknown>(url: string, options?: { key?: string; tags?: string[] }): Promise<T>;
  drop(key: string): void;
  clear(): void;
}

export interface CacheOptions {
  /** Keep copies across reloads (localStorage, sessionStorage). */
  storage?: Storage | null;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export declare function createCache(client: StreamClient, options?: CacheOptions): Cache;
