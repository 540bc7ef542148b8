/**
 * The Web Component adapter: `<portico-mfe mfe-id="incidents" src="…/incidents.js"
 * element="incidents-list">` mounts one micro-frontend and gives it the shell as itself.
 *
 * The micro-frontend gets its MfeContext in two ways: the element named by `element` is created
 * with the context in its `portico` property before it is connected; any descendant can ask
 * with the community `context-request` event (what Lit's @lit/context speaks), or with
 * requestMfeContext(this). When `<portico-mfe>` leaves the document, every subscription made
 * through the context ends.
 */
import type { Shell } from '../types.ts';
import { createMfeContext, type MfeContext, type OwnedMfeContext } from './mfe-context.ts';

/** The `context` key of the context-request event for the shell. */
export const MFE_CONTEXT = 'portico-shell';

/** An element created by `<portico-mfe element="…">` finds its context here. */
export type MfeElement = HTMLElement & { portico?: MfeContext };

export type MfeElementOptions = {
  /** The shell for every `<portico-mfe>` (else set each element's `shell` property). */
  shell?: Shell;
  /** Default `portico-mfe`. */
  tagName?: string;
  /** Default `customElements` of the global window. */
  registry?: CustomElementRegistry;
};

type ContextRequest = Event & {
  context?: unknown;
  callback?: (value: MfeContext, unsubscribe?: () => void) => void;
};

/** Defines the `<portico-mfe>` element (once per registry and tag) and returns its class. */
export function defineMfeElement(options: MfeElementOptions = {}): CustomElementConstructor {
  const registry = options.registry ?? customElements;
  const tagName = options.tagName ?? 'portico-mfe';
  const existing = registry.get(tagName);
  if (existing) return existing;

  class PorticoMfe extends HTMLElement {
    #shell: Shell | undefined = options.shell;
    #context: OwnedMfeContext | undefined;
    #child: MfeElement | undefined;
    #mounting = 0;

    constructor() {
      super();
      this.addEventListener('context-request', this.#onContextRequest);
    }

    get shell(): Shell | undefined {
      return this.#shell;
    }

    set shell(shell: Shell | undefined) {
      this.#shell = shell;
      this.#unmount();
      if (this.isConnected) void this.#mount();
    }

    /** The mounted micro-frontend's context, once mounted. */
    get context(): MfeContext | undefined {
      return this.#context;
    }

    connectedCallback() {
      void this.#mount();
    }

    disconnectedCallback() {
      this.#unmount();
    }

    async #mount(): Promise<void> {
      const mfeId = this.getAttribute('mfe-id');
      if (!this.#shell || !mfeId || this.#context) return;
      const attempt = ++this.#mounting;
      const context = createMfeContext(this.#shell, mfeId);
      this.#context = context;
      const src = this.getAttribute('src');
      const tag = this.getAttribute('element');
      const failed = (error: unknown) =>
        this.dispatchEvent(new CustomEvent('portico-mfe-error', { detail: { mfeId, error } }));
      try {
        if (src) await import(/* @vite-ignore */ new URL(src, this.baseURI).href);
      } catch (error) {
        failed(error);
        return;
      }
      // Unmounted, or mounted again, while the module loaded.
      if (attempt !== this.#mounting || this.#context !== context) return;
      if (tag) {
        let child: MfeElement;
        try {
          // Throws on a name that is not an element name (`element="1 list"`).
          child = this.ownerDocument.createElement(tag) as MfeElement;
        } catch (error) {
          failed(error);
          return;
        }
        child.portico = context;
        this.#child = child;
        this.append(child);
      }
      this.dispatchEvent(new CustomEvent('portico-mfe-mounted', { detail: { mfeId } }));
    }

    #unmount(): void {
      this.#mounting++;
      this.#context?.release();
      this.#context = undefined;
      this.#child?.remove();
      this.#child = undefined;
    }

    readonly #onContextRequest = (event: Event) => {
      const request = event as ContextRequest;
      if (request.context !== MFE_CONTEXT || !this.#context) return;
      event.stopPropagation();
      request.callback?.(this.#context);
    };
  }

  registry.define(tagName, PorticoMfe);
  return PorticoMfe;
}

/** The context of the `<portico-mfe>` around `element`, asked with a context-request event. */
export function requestMfeContext(element: Element): MfeContext | undefined {
  let context: MfeContext | undefined;
  const request: ContextRequest = new Event('context-request', { bubbles: true, composed: true });
  request.context = MFE_CONTEXT;
  request.callback = (value) => (context = value);
  element.dispatchEvent(request);
  return context;
}
