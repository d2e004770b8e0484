/** The metadata key under which `@Endpoint()` keeps a handler's route contract. */
export const ROUTE_CONTRACT = Symbol('capstan:route-contract');
