/** Which tenant's dictionary a request acts on. Tenancy for the dictionary is decided here. */
import { hasScope, type Principal } from '../auth/principal.ts';
import { problems } from '../http/problem.ts';

/** The caller's own tenant; another one (`?tenant=`) only with the `admin` scope. */
export function tenantFor(principal: Principal, requested: string | undefined): string {
  if (requested === undefined || requested === principal.tenant) return principal.tenant;
  if (!hasScope(principal, 'admin'))
    throw problems.forbidden(`tenant "${requested}" is not the caller's tenant`);
  return requested;
}
