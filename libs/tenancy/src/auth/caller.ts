import type { db } from '@capstan/platform';

export type TokenScope = 'read' | 'write';
export type StaffRole = 'viewer' | 'operator' | 'admin';

/** A customer: an organisation's API token. Everything it touches is scoped to that organisation. */
export interface CustomerCaller {
  kind: 'customer';
  organizationId: string;
  tokenId: string;
  scopes: TokenScope[];
  organizationStatus: 'active' | 'suspended';
  suspendedReason: string | null;
}

/** Provider staff, signed in through OIDC or with a staff API token. Not a customer of anyone. */
export interface StaffCaller {
  kind: 'staff';
  staffUserId: string;
  role: StaffRole;
  via: 'oidc' | 'token';
  tokenId?: string;
}

export type Caller = CustomerCaller | StaffCaller;

export interface Actor {
  type: db.ActorType;
  id: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'capstan' };

export function actorOf(caller: Caller): Actor {
  if (caller.kind === 'customer') return { type: 'api_token', id: caller.tokenId };
  return caller.via === 'token' && caller.tokenId ? { type: 'staff_token', id: caller.tokenId } : { type: 'staff_user', id: caller.staffUserId };
}

const ROLE_RANK: Record<StaffRole, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: StaffRole, needed: StaffRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}
