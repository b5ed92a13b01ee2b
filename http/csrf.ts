// CSRF (API.md "Frontends"): a request a browser would send cross-site without a preflight must prove
// it is not a plain form or link. A GET that carries an operation (a `query` parameter), or a POST whose
// body is not JSON, needs x-graphql-yoga-csrf or Authorization: either header forces a preflight. The
// GraphiQL page (a GET with no operation, or answered as HTML before parsing) needs neither; yoga itself
// refuses a mutation over GET.
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { isJsonContentType } from './body.js';

export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'authorization'] as const;

export function useCsrfRule(): Plugin {
  return {
    onRequestParse({ request }) {
      const needsProof =
        request.method === 'POST'
          ? !isJsonContentType(request.headers.get('content-type') ?? undefined)
          : new URL(request.url).searchParams.has('query');
      if (!needsProof || CSRF_HEADERS.some((h) => request.headers.has(h))) return;
      throw createGraphQLError('this request needs an x-graphql-yoga-csrf or Authorization header (CSRF protection)', {
        extensions: { code: 'CSRF_HEADER_REQUIRED', http: { status: 403 } },
      });
    },
  };
}
