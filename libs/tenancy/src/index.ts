export * from './tokens/token-secret';
export * from './auth/caller';
export * from './auth/current-caller';
export * from './audit/audit-log';
export * from './organizations/organizations.service';
export * from './tenancy.module';
export * from './board/board-sessions';
export * from './board/board-cookie';
export { servedOverHttps } from './board/board-session.controller';
