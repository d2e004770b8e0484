import { UnauthenticatedError } from '@capstan/domain';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Caller, CustomerCaller, StaffCaller } from './caller';

function callerOf(context: ExecutionContext): Caller {
  const caller = context.switchToHttp().getRequest<{ user?: Caller }>().user;
  if (!caller) throw new UnauthenticatedError();
  return caller;
}

/** The customer calling a `customer:*` route (the AccessGuard has checked it). */
export const CurrentCustomer = createParamDecorator((_: unknown, context: ExecutionContext): CustomerCaller => {
  const caller = callerOf(context);
  if (caller.kind !== 'customer') throw new UnauthenticatedError();
  return caller;
});

/** The staff member calling a `staff:*` route. */
export const CurrentStaff = createParamDecorator((_: unknown, context: ExecutionContext): StaffCaller => {
  const caller = callerOf(context);
  if (caller.kind !== 'staff') throw new UnauthenticatedError();
  return caller;
});
