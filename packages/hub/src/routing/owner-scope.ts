/** Which owner's rules or DLQ a request acts on. Tenancy is decided here and nowhere else. */
import { hasScope, type Principal } from '../auth/principal.ts';
import { problems } from '../http/problem.ts';
import { PLATFORM, tenantOwner, type Owner } from './rule.ts';

export type OwnerQuery = { scope?: 'tenant' | 'platform' | undefined; tenant?: string | undefined };

/**
 * The caller's own tenant by default; another tenant (`?tenant=`) or the platform
 * (`scope: platform`) only with the `admin` scope.
 */
export function ownerFor(principal: Principal, query: OwnerQuery): Owner {
  const admin = hasScope(principal, 'admin');
  if (query.scope === 'platform') {
    if (!admin)
      throw problems.forbidden('platform rules and their deliveries need the scope "admin"');
    if (query.tenant !== undefined)
      throw problems.validation('give either scope "platform" or a tenant, not both', [
        { pointer: '/tenant', detail: 'not allowed with scope "platform"' },
      ]);
    return PLATFORM;
  }
  if (query.tenant !== undefined && query.tenant !== principal.tenant) {
    if (!admin) throw problems.forbidden(`tenant "${query.tenant}" is not the caller's tenant`);
    return tenantOwner(query.tenant);
  }
  return tenantOwner(principal.tenant);
}

/** Whether the caller may see a rule (or delivery) of this owner. Others get a 404, not a 403. */
export function canSee(principal: Principal, owner: Owner): boolean {
  return hasScope(principal, 'admin') || owner === tenantOwner(principal.tenant);
}
