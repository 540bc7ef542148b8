/**
 * What the bus checks payloads against in development: the `events` map of the hub's
 * `GET /v1/catalog/contracts`, built from the catalog's app manifests and the schema registry.
 */

export type EventContract = {
  /** JSON Schema (2020-12 or draft-07) of the event's `data`; null when none is registered. */
  schema: object | null;
  /** Catalog app names allowed to publish the type (the bus's `from`). */
  publishers?: string[];
  consumers?: string[];
};

export type EventContracts = Record<string, EventContract>;
