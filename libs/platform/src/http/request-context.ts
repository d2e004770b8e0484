import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';

export const SOURCE_IP = 'capstan:source-ip';

/** The request being served, as seen from deep inside a use case (for audit and logs). */
@Injectable()
export class RequestContext {
  constructor(private readonly cls: ClsService) {}

  get requestId(): string | null {
    return this.cls.isActive() ? (this.cls.getId() ?? null) : null;
  }

  get sourceIp(): string | null {
    return this.cls.isActive() ? (this.cls.get<string | undefined>(SOURCE_IP) ?? null) : null;
  }
}
