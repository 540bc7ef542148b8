import SwaggerParser from '@apidevtools/swagger-parser';
import { expect, it } from 'vitest';
import { startTestHub } from '../testing/test-hub.ts';

// Every capability adds routes; the generated description must stay a valid document that
// client generators accept, with each scoped route saying which scope it needs.
it("Portico's own /openapi.json is valid OpenAPI 3.1 and names each route's scope", async () => {
  const t = await startTestHub();
  try {
    const doc = (await t.hub.server.inject({ url: '/openapi.json' })).json();
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
    expect(doc.openapi).toBe('3.1.0');
    const publish = doc.paths['/v1/events'].post;
    expect(publish.security).toEqual([{ bearer: ['events:publish'] }]);
  } finally {
    await t.close();
  }
});
