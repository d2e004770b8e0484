import { tenancyRoutes as routes } from '@capstan/contracts';
import { Endpoint, HttpConfig, Input } from '@capstan/platform';
import { Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StaffCaller } from '../auth/caller';
import { CurrentStaff } from '../auth/current-caller';
import { BOARD_COOKIE, BOARD_PATH, BoardSessions } from './board-sessions';
import { boardCookie } from './board-cookie';

@Controller()
export class BoardSessionController {
  constructor(
    private readonly sessions: BoardSessions,
    private readonly http: HttpConfig,
  ) {}

  @Endpoint(routes.adminCreateBoardSession)
  async open(
    @CurrentStaff() staff: StaffCaller,
    // Parsed only so that a body with fields is refused: the route takes none.
    @Input() _input: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { secret, expiresAt } = await this.sessions.open(staff);
    void reply.header(
      'set-cookie',
      boardCookie(BOARD_COOKIE, secret, { path: BOARD_PATH, maxAgeSeconds: this.sessions.ttlSeconds, secure: servedOverHttps(request, this.http) }),
    );
    return { expires_at: expiresAt.toISOString(), board_url: `${BOARD_PATH}/` };
  }
}

/** Secure whenever a browser reaches us over https: the request says so (behind a trusted proxy), or the public URL does. */
export function servedOverHttps(request: FastifyRequest, http: Pick<HttpConfig, 'publicUrl'>): boolean {
  return request.protocol === 'https' || (http.publicUrl ?? '').startsWith('https:');
}
