import { CanActivate, ExecutionContext, ForbiddenException, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeys, apiKeyOfHeaders, Scope } from './api-keys';

const SCOPE_KEY = 'rewind:scope';

/** The API-key scope a controller or handler needs (handler wins); without it a route is open (health, docs, metrics). */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

/** Checks the scope of the request's API key: 401 without a valid key, 403 when the key lacks the scope. */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_KEY, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const result = this.keys.check(apiKeyOfHeaders(req.headers), scope);
    if (result.ok) return true;
    if (result.status === 403) throw new ForbiddenException({ error: 'forbidden', message: result.reason });
    throw new UnauthorizedException({ error: 'unauthorized', message: result.reason });
  }
}
